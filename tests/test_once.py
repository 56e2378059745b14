"""once.Once: answers kept once, never one that rests on a question still open."""
from pgrewrite.once import Once


def test_an_answer_is_computed_once_per_key_and_variant():
    once, calls = Once(), []

    def compute():
        calls.append(1)
        return "pg"

    assert once.get("a", compute) == "pg"
    assert once.get("a", compute) == "pg"
    assert once.get("a", compute, variant=(1,)) == "pg"
    assert len(calls) == 2


def test_a_question_asked_inside_its_own_answer_is_none():
    once = Once()
    assert once.get("a", lambda: once.get("a", lambda: "never")) is None


def test_an_answer_resting_on_an_open_question_is_not_kept():
    # b's answer is computed while a is open and sees a as None; asked
    # first hand later, b must be computed again, so that what b says
    # does not depend on whether a was asked first.
    once = Once()
    a_answer = {"value": "pg"}

    def b():
        got = once.get("a", a)
        return "pte" if got is None else got

    def a():
        once.get("b", b)
        return a_answer["value"]

    assert once.get("a", a) == "pg"
    assert once.get("b", b) == "pg"     # a is known now: b agrees with it


def test_an_answer_cut_only_at_itself_is_kept():
    once, calls = Once(), []

    def a():
        calls.append(1)
        once.get("a", lambda: "never")
        return "pg"

    assert once.get("a", a) == "pg"
    assert once.get("a", a) == "pg"
    assert len(calls) == 1


def test_answers_are_forgotten_when_the_facts_they_rest_on_change():
    before, after = {}, {}
    once, calls = Once(before), []

    def compute():
        calls.append(1)
        return len(calls)

    assert once.get("a", compute, facts=before) == 1
    assert once.get("a", compute, facts=before) == 1
    assert once.get("a", compute, facts=after) == 2     # the strong decisions are known now
    assert once.get("a", compute, facts=after) == 2
