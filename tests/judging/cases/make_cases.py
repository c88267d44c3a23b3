"""Writes the JSON case files of this folder. Expected values are written here by hand or follow
by construction from the template (a wrapper around a known answer) — never from running the
extractor. Re-run after adding cases: python tests/judging/cases/make_cases.py"""
import json
from pathlib import Path

HERE = Path(__file__).parent

# ----------------------------------------------------------------------------- extraction
# (id, response, expected answer or None, note[, options])
HAND = [
    # the reported failures
    ("nested_frac", r"So the result is \boxed{\frac{1}{2}}.", r"\frac{1}{2}", "first-} regex stops at \\frac{1"),
    ("nested_deep", r"\boxed{\frac{\sqrt{3}}{\sqrt{2}+\frac{1}{2}}}", r"\frac{\sqrt{3}}{\sqrt{2}+\frac{1}{2}}", "three levels"),
    ("nested_text", r"\boxed{\text{(B) }\{1,2\}}", r"\text{(B) }\{1,2\}", "escaped braces are literal"),
    ("set_escaped", r"The set is \boxed{\{1, 2, 3\}}", r"\{1, 2, 3\}", "\\{ does not open a group"),
    ("think_box_then_answer", r"<think>maybe \boxed{7}? no wait</think> The answer is \boxed{19}", "19", "toy task form"),
    ("think_only_box", r"<think>I guess \boxed{7}</think> The answer is 19.", "19", "boxed inside think must not win"),
    ("toy", r"<think>7+12=19</think> The answer is \boxed{19}", "19", "the embedded toy task"),
    ("orphan_close", r"Let me compute. 3*4=12 so \boxed{11}? hmm </think> Final: \boxed{12}", "12", "template put <think> in prompt"),
    ("orphan_close_no_box", "reasoning with 99 and 98 </think>\nThe answer is 42.", "42", "R1 style"),
    ("unclosed_think", r"<think>long reasoning \boxed{5} and then it got trunc", None, "truncated while thinking: no answer"),
    ("unclosed_think_keep", r"<think>long reasoning \boxed{5} and then", "5", "unclosed=keep", {"unclosed": "keep"}),
    ("two_think_blocks", "<think>a \\boxed{1}</think> mid <think>b \\boxed{2}</think> end \\boxed{3}", "3", ""),
    ("think_uppercase", r"<THINK>\boxed{4}</THINK>\boxed{6}", "6", "tag case-insensitive"),
    ("harmony_tokens", r"<|channel|>analysis<|message|>We need 2+2, maybe \boxed{5}<|end|><|start|>assistant<|channel|>final<|message|>The answer is \boxed{4}.<|return|>", "4", "gpt-oss"),
    ("harmony_no_final", r"<|channel|>analysis<|message|>thinking \boxed{5} ...", None, "no final channel"),
    ("harmony_skipped_tokens", r"analysisWe need 2+2 = \boxed{5}? no.assistantfinalThe answer is \boxed{4}.", "4", "special tokens skipped at decode"),
    ("harmony_final_plain", "<|channel|>final<|message|>Answer: 17<|end|>", "17", ""),
    ("strict_final_answer_miss", "After simplifying we get x = 5.\n\n**Final Answer**\n\n$5$", "5", "no colon after Final Answer"),
    ("minerva", "Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", r"\frac{3}{4}", "Minerva format"),
    ("answer_bold", "**Answer:** 128", "128", ""),
    ("answer_bold_value", "Answer: **256**", "256", ""),
    ("answer_is_sentence", "The answer is 19 apples.", "19", "number head"),
    ("answer_is_decimal", "So the answer is 3.75.", "3.75", "decimal point kept, final period dropped"),
    ("answer_is_expr", "Thus the answer is x^2+1.", "x^2+1", ""),
    ("answer_is_math_span", r"Therefore, the answer is $\sqrt{2}$.", r"\sqrt{2}", ""),
    ("answer_is_paren_span", r"The answer is \(2\pi\).", r"2\pi", ""),
    ("answer_is_last", "The answer is 3? Let me recheck. The answer is 4.", "4", "last cue wins"),
    ("answer_colon_newline", "Answer:\n  42", "42", ""),
    # math-verify's parser (the fallback since EXTRACT_VERSION 2) anchors on the word "answer"
    # and takes the first number after it; last_number (opt-in) would give 5
    ("answer_word_not_cue", "To find the answer, we add 2 and 3 to get 5", "2", "math-verify's anchor"),
    ("answer_word_not_cue_last_number", "To find the answer, we add 2 and 3 to get 5", "5", "opt-in last number",
     {"order": ["answer_tag", "boxed", "gsm8k", "answer_is", "last_number"]}),
    ("gsm8k", "Natalia sold 48/2 = 24 clips in May.\n#### 72", "72", ""),
    ("gsm8k_commas", "#### 1,234", "1234", "thousands separators"),
    ("gsm8k_dollar", "#### $18", "18", "currency"),
    ("answer_tag", "<answer>42</answer>", "42", ""),
    ("answer_tag_with_box", r"<answer>The result is \boxed{x+1}</answer>", "x+1", ""),
    ("answer_tag_last", "<answer>1</answer> wait <answer>2</answer>", "2", ""),
    ("answer_tag_in_think", "<think><answer>1</answer></think><answer>2</answer>", "2", ""),
    ("answer_tag_over_box", r"\boxed{5} ... <answer>6</answer>", "6", "answer tag is tried first"),
    ("fbox", r"\fbox{12}", "12", ""),
    ("fbox_nested", r"\fbox{\frac{1}{3}}", r"\frac{1}{3}", ""),
    ("boxed_space_arg", r"so $\boxed 7$.", "7", "boxed without braces"),
    ("boxed_space_before_brace", r"\boxed {8}", "8", ""),
    ("last_box_wins", r"\boxed{1} then \boxed{2}", "2", ""),
    ("truncated_last_box", r"\boxed{3} and finally \boxed{\frac{1}{", "3", "unclosed box skipped"),
    ("boxed_dollars_inside", r"\boxed{$5$}", "5", ""),
    ("boxed_thousands", r"\boxed{1,000,000}", "1000000", ""),
    ("boxed_tuple", r"\boxed{(1, 2)}", "(1, 2)", ""),
    ("boxed_interval", r"\boxed{(-\infty, 3]}", r"(-\infty, 3]", ""),
    ("boxed_matrix", r"\boxed{\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}}", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", "\\\\ then a space"),
    ("boxed_linebreak_brace", r"\boxed{a \\{b}}", r"a \\{b}", "\\\\ is a line break, next brace groups"),
    ("boxed_trailing_period", r"\boxed{5.}", "5", ""),
    ("boxed_percent", r"\boxed{50\%}", r"50\%", "kept for the verifier"),
    ("boxed_degrees", r"\boxed{30^\circ}", r"30^\circ", ""),
    ("boxed_text_units", r"\boxed{5\text{ cm}}", r"5\text{ cm}", ""),
    ("boxed_negative", r"\boxed{-7}", "-7", ""),
    ("boxed_empty_then_none", r"\boxed{}", None, "empty box and nothing else"),
    ("boxed_dfrac", r"\boxed{\dfrac{7}{2}}", r"\dfrac{7}{2}", ""),
    ("last_number", "We get 3 then 7 then 12", "12", ""),
    ("last_number_negative", "the temperature dropped to -5", "-5", ""),
    ("last_number_decimal", "total is 2.50 dollars", "2.50", ""),
    ("last_number_fraction", "half of it: 1/2", "1/2", ""),
    ("last_number_thousands", "population 12,345", "12345", ""),
    ("last_number_off", "We get 3 then 7 then 12", None, "fallback disabled", {"order": ["answer_tag", "boxed", "gsm8k", "answer_is"]}),
    ("no_answer", "I don't know.", None, ""),
    ("empty", "", None, ""),
    ("only_think", "<think>3+4=7</think>", None, "nothing after reasoning"),
    ("markdown_final", "### Final Answer\nThe final answer is $\\boxed{2025}$", "2025", ""),
    ("latex_display", "\\[\n\\boxed{\\frac{a+b}{2}}\n\\]", r"\frac{a+b}{2}", ""),
    ("answer_equals", "Answer = 14", "14", ""),
    ("answer_is_colon", "The final answer is: 9", "9", ""),
    ("answer_fullwidth_colon", "答案 answer：8", "8", "full-width colon"),
    ("boxed_in_answer_sentence", r"The answer is $\boxed{12}$ dollars.", "12", ""),
    ("box_after_think_in_tag_case", "<think>\n\\boxed{0}\n</think>\n\n<answer>\\boxed{1}</answer>", "1", ""),
    ("gsm8k_over_number", "She pays 5 + 6 = 11\n#### 11", "11", ""),
    ("boxed_over_answer_is", r"The answer is 4. Actually \boxed{5}", "5", "boxed tried before answer-is"),
]

ANSWERS = ["19", "-3", "0", "1000", r"\frac{1}{2}", r"\frac{\sqrt{3}}{2}", r"\sqrt{2}", "2\\pi",
           "(1, 2]", "x^2+1", r"\{1,2\}", r"\begin{pmatrix}1\\2\end{pmatrix}", "10^{10}",
           r"\text{(B)}", r"3\sqrt{5}", "0.75"]
# wrappers: ANS marks the answer; each wrapper's expected output is ANS by construction
WRAPPERS = [
    ("think_box", "<think>Let me try \\boxed{999} first, no.</think> The answer is \\boxed{ANS}."),
    ("final_answer_display", "Some work.\n\n**Final Answer**\n\\[\n\\boxed{ANS}\n\\]"),
    ("answer_tag", "<think>hmm</think><answer>ANS</answer>"),
    ("harmony", "<|channel|>analysis<|message|>try \\boxed{999}<|end|><|start|>assistant<|channel|>final<|message|>So \\boxed{ANS}<|return|>"),
    ("fbox", "Result: $\\fbox{ANS}$"),
    ("orphan_close", "thinking \\boxed{999} ...</think>\nThus $\\boxed{ANS}$"),
    ("two_boxes", "First \\boxed{999}, but after checking: \\boxed{ANS}"),
    ("harmony_skipped", "analysisscratch \\boxed{999}assistantfinalThe result is \\boxed{ANS}."),
    ("dollar_box", "$\\boxed{ANS}$"),
    ("answer_tag_box", "<answer>so \\boxed{ANS}</answer>"),
]


def extract_cases():
    cases = []
    for row in HAND:
        cid, resp, exp, note, *opt = row
        c = {"id": cid, "response": resp, "expected": exp, "note": note}
        if opt:
            c["options"] = opt[0]
        cases.append(c)
    for wname, w in WRAPPERS:
        for i, ans in enumerate(ANSWERS):
            cases.append({"id": f"{wname}_{i}", "response": w.replace("ANS", ans), "expected": ans,
                          "note": "template"})
    return cases


# ----------------------------------------------------------------------------- multiple choice
CHOICE = [
    ("boxed", r"... so \boxed{B}", "B"),
    ("boxed_text", r"\boxed{\text{C}}", "C"),
    ("boxed_paren", r"\boxed{(D)}", "D"),
    ("answer_is_paren", "The answer is (A).", "A"),
    ("answer_is_plain", "The correct answer is B.", "B"),
    ("answer_colon", "Answer: C", "C"),
    ("answer_colon_bold", "**Answer:** D", "D"),
    ("answer_colon_option", "Answer: option B", "B"),
    ("answer_tag", "<answer>C</answer>", "C"),
    ("answer_tag_paren", "<answer>(A) 42</answer>", "A"),
    ("think_ignored", "<think>The answer is (A)</think> The answer is (C)", "C"),
    ("paren_fallback", "Looking at the options, (B) fits best", "B"),
    ("bold_fallback", "I pick **D**", "D"),
    ("bare", "B", "B"),
    ("bare_paren", "(C)", "C"),
    ("lowercase_cue_paren", "the answer is (b)", "B"),
    ("article_not_letter", "A quick check shows nothing.", None),
    ("out_of_range", "The answer is (F).", None),
    ("out_of_range_ok_10", "The answer is (F).", "F", "ABCDEFGHIJ"),
    ("last_cue_wins", "Answer: A. Wait, no. Answer: D", "D"),
    ("boxed_over_cue", r"The answer is (A)... final \boxed{B}", "B"),
    ("harmony", "<|channel|>analysis<|message|>(A)?<|end|><|start|>assistant<|channel|>final<|message|>Answer: C<|return|>", "C"),
    ("none", "I am not sure.", None),
    ("answer_is_letter_period", "Therefore, the answer is D.", "D"),
    ("option_word", "The answer is option A", "A"),
    ("cue_lowercase_word", "the answer is a bit unclear", None),
    ("multi_paren_last", "(A) is wrong and (B) is wrong, so (C)", "C"),
    ("gpqa_style", "...\n\nANSWER: B", "B"),
    ("bold_paren", "Final choice: **(A)**", "A"),
    ("empty", "", None),
]

# ----------------------------------------------------------------------------- critique
CRITIQUE = [
    ("right", "The steps check out.\nConclusion: right", "right", "right", True),
    ("wrong", "Step 2 is invalid.\nConclusion: wrong", "wrong", "wrong", True),
    ("mismatch", "Conclusion: right", "right", "wrong", False),
    ("bold", "**Conclusion:** wrong", "wrong", "incorrect", True),
    ("case", "CONCLUSION: Right", "right", "correct", True),
    ("boxed", r"So the solution is \boxed{wrong}", "wrong", "wrong", True),
    ("last_wins", "Conclusion: right ... on reflection. Conclusion: wrong", "wrong", "wrong", True),
    ("think_ignored", "<think>Conclusion: right</think>Conclusion: wrong", "wrong", "wrong", True),
    ("missing", "The answer seems fine.", None, "right", False),
    ("correct_word", "Conclusion: correct", "right", "right", True),
    ("incorrect_word", "Conclusion: incorrect.", "wrong", "wrong", True),
    ("bool_target", "Conclusion: right", "right", True, True),
    ("bool_target_false", "Conclusion: wrong", "wrong", False, True),
    ("text_wrapped", r"Conclusion: \text{wrong}", "wrong", "wrong", True),
    ("unknown_word", "Conclusion: unclear", None, "wrong", False),
    ("fullwidth", "Conclusion：right", "right", "right", True),
    ("truncated_think", "<think>Conclusion: right", None, "right", False),
    ("no_gold", "Conclusion: right", "right", None, False),
    ("yes_target", "Conclusion: right", "right", "yes", True),
    ("harmony", "<|channel|>final<|message|>Conclusion: wrong<|return|>", "wrong", "wrong", True),
]

# ----------------------------------------------------------------------------- math verdicts
# (gold, response, expected verdict): equivalences that string matching misses, and near misses
MATH = [
    ("19", r"<think>7+12=19</think> The answer is \boxed{19}", True),
    ("19", r"<think>7+12=19</think> The answer is \boxed{18}", False),
    ("0.5", r"\boxed{\frac{1}{2}}", True),
    (r"\frac{1}{2}", r"\boxed{0.5}", True),
    (r"\frac{1}{2}", "The answer is 1/2.", True),
    (r"\frac{1}{2}", r"\boxed{\dfrac12}", True),
    (r"\frac{1}{3}", r"\boxed{0.33}", False),
    (r"2\sqrt{2}", r"\boxed{\sqrt{8}}", True),
    (r"\sqrt{2}", r"\boxed{1.41}", False),
    ("1000", r"\boxed{1,000}", True),
    ("1000", "#### 1,000", True),
    ("-3", r"\boxed{-3}", True),
    ("-3", r"\boxed{3}", False),
    ("x^2+2x+1", r"\boxed{(x+1)^2}", True),
    ("x^2+1", r"\boxed{(x+1)^2}", False),
    ("(1, 2]", r"\boxed{(1,2]}", True),
    ("(1, 2]", r"\boxed{[1,2]}", False),
    (r"\{1,2,3\}", r"\boxed{\{3,2,1\}}", True),
    ("10^{10}", r"\boxed{10000000000}", True),
    ("12", r"The answer is $12$.", True),
    ("12", "Answer: **12**", True),
    ("12", r"<think>\boxed{12}</think> I give up.", False),
    ("12", "no answer here", False),
    (r"\pi", r"\boxed{3.14159265358979}", True),
    ("2", r"\boxed{2.0}", True),
    ("2", r"\boxed{x}", False),
    ("7", r"\boxed{\frac{14}{2}}", True),
    ("3", r"\boxed{x=3}", True),
    ("#### 72", "so 72 clips\n#### 72", True),
    (r"The answer is \boxed{5}", r"\boxed{5}", True),
    (r"\frac{\sqrt{3}}{2}", r"\boxed{\frac{1}{2}\sqrt{3}}", True),
    (r"\frac{\sqrt{3}}{2}", r"\boxed{\frac{\sqrt{2}}{2}}", False),
    ("123456789012345678", r"\boxed{123456789012345678}", True),
    ("4", r"<|channel|>final<|message|>\boxed{4}<|return|>", True),
]


def main():
    (HERE / "extract.json").write_text(json.dumps(extract_cases(), indent=1, ensure_ascii=False) + "\n")
    choice = []
    for row in CHOICE:
        cid, resp, exp, *letters = row
        c = {"id": cid, "response": resp, "expected": exp}
        if letters:
            c["letters"] = letters[0]
        choice.append(c)
    (HERE / "choice.json").write_text(json.dumps(choice, indent=1, ensure_ascii=False) + "\n")
    crit = [{"id": i, "response": r, "expected": e, "target": t, "correct": ok}
            for i, r, e, t, ok in CRITIQUE]
    (HERE / "critique.json").write_text(json.dumps(crit, indent=1, ensure_ascii=False) + "\n")
    math = [{"id": f"m{i}", "gold": g, "response": r, "correct": ok} for i, (g, r, ok) in enumerate(MATH)]
    (HERE / "math.json").write_text(json.dumps(math, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
