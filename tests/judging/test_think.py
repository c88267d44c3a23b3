"""reasonkit.think: the one <think> splitter, and that engines, formats and judges all use it."""
import pytest

from reasonkit.think import split_think, strip_think


@pytest.mark.parametrize("text,opened,answer,blocks,closed", [
    ("<think>a</think>b", False, "b", ("a",), True),
    ("a</think>b", False, "b", ("a",), True),                    # template opened the block
    ("<think>a</think>b<think>c</think>d", False, "bd", ("a", "c"), True),
    ("x<think>still going", False, "x", ("still going",), False),
    ("no tags", False, "no tags", (), True),
    ("no tags", True, "", ("no tags",), False),                   # opened and never closed
    ("<think>a", True, "", ("a",), False),
    ("a</think>b", True, "b", ("a",), True),
    ("<THINK>a</Think>b", False, "b", ("a",), True),
])
def test_split(text, opened, answer, blocks, closed):
    t = split_think(text, opened=opened)
    assert (t.answer, t.blocks, t.closed) == (answer, blocks, closed)


def test_strip_unclosed_policy():
    assert strip_think("a <think>b") == "a "
    assert strip_think("a <think>b", unclosed="keep") == "a b"
    with pytest.raises(ValueError, match="unclosed"):
        strip_think("x", unclosed="maybe")


def test_callers_share_the_splitter(monkeypatch):
    """Engines, formats and judging all go through reasonkit.think.split_think: a changed
    splitter changes all three."""
    import reasonkit.think as think
    from reasonkit.engines.common import apply_think
    from reasonkit.formats import chat
    from reasonkit.judging.extract import extract_answer

    calls = []
    real = think.split_think

    def spy(*a, **k):
        calls.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(think, "split_think", spy)
    monkeypatch.setattr(chat, "_split", spy)
    import reasonkit.judging.extract as ex
    monkeypatch.setattr(ex, "split_think", spy)
    apply_think("<think>e</think>1", "strip")
    chat.split_think("<think>f</think>2")
    extract_answer(r"<think>j</think>\boxed{3}")
    assert calls == ["<think>e</think>1", "<think>f</think>2", r"<think>j</think>\boxed{3}"]
