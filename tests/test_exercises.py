"""snippets.exercises: a check passes right answers and names the first failing case."""

import re

import pytest
import torch

from snippets import exercises, reference
from snippets.exercises import EXERCISES, Exercise, ExerciseFailed, check, register

# Known-good vectorised answers, one per exercise of the gather chapter.
GOOD = {
    "pick_per_column": lambda x, rows: x.gather(0, rows.unsqueeze(0)).squeeze(0),
    "sequence_logprob": lambda logits, tokens, mask: (
        torch.log_softmax(logits[:, :-1], -1).gather(-1, tokens[:, 1:, None]).squeeze(-1)
        * mask[:, 1:]
    ).sum(1),
    "select_patches": lambda p, idx: p.gather(1, idx[..., None].expand(-1, -1, p.shape[-1])),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_right_answer_passes(name, capsys):
    check(GOOD[name], name)
    assert capsys.readouterr().out == f"✓ {name}: all 100 random cases match the reference.\n"


def test_a_wrong_shape_names_case_arguments_and_shapes():
    with pytest.raises(ExerciseFailed) as err:
        check(lambda p, idx: p.gather(1, idx.unsqueeze(-1)), "select_patches")
    message = str(err.value)
    assert message.startswith("select_patches failed on case 1 of 100 (seed 0) with\n")
    assert re.search(r"patches: float32 \(\d+, \d+, \d+\)", message)
    assert re.search(r"expected shape \(\d+, \d+, \d+\), got shape \(\d+, \d+, 1\)", message)


def test_a_wrong_value_names_the_first_difference():
    def off_by_one(x, rows):
        return x.gather(0, rows.unsqueeze(0)).squeeze(0) + 1

    with pytest.raises(ExerciseFailed, match=r"first difference at position \(0,\): expected"):
        check(off_by_one, "pick_per_column")


def test_a_crash_is_reported_with_the_case():
    def crash(x, rows):
        raise RuntimeError("boom")

    with pytest.raises(ExerciseFailed, match="your function raised RuntimeError: boom"):
        check(crash, "pick_per_column")


def test_non_tensor_and_dtype_mismatch_are_named():
    with pytest.raises(ExerciseFailed, match="expected a tensor, got list"):
        check(lambda x, rows: [0], "pick_per_column")
    with pytest.raises(
        ExerciseFailed, match=re.escape("expected dtype torch.float32, got torch.float64")
    ):
        check(lambda x, rows: GOOD["pick_per_column"](x, rows).double(), "pick_per_column")


def test_the_solution_cannot_change_the_cases():
    def vandal(x, rows):
        out = GOOD["pick_per_column"](x, rows)
        x.zero_()  # works on a copy: the reference saw the original
        return out

    check(vandal, "pick_per_column", n_cases=20)


def test_unknown_exercise_lists_the_names():
    with pytest.raises(KeyError, match="pick_per_column"):
        check(GOOD["pick_per_column"], "pick_per_row")


def test_names_are_unique():
    ex = EXERCISES["pick_per_column"]
    with pytest.raises(ValueError, match="already registered"):
        register(Exercise(ex.name, ex.signature, ex.reference, ex.make_case, ex.arg_names))


def test_cases_cover_empty_and_non_contiguous_inputs():
    gen = torch.Generator().manual_seed(0)
    cases = [exercises.EXERCISES["pick_per_column"].make_case(gen) for _ in range(100)]
    assert any(x.numel() == 0 for x, _ in cases)
    assert any(not x.is_contiguous() for x, _ in cases)


@pytest.mark.parametrize("n_cases", [0, -1])
def test_no_cases_is_an_error_not_a_pass(n_cases):
    with pytest.raises(ValueError, match=f"n_cases must be an int >= 1, got {n_cases}"):
        check(GOOD["pick_per_column"], "pick_per_column", n_cases=n_cases)


@pytest.mark.parametrize("n_cases", [1, 7, None])
def test_the_count_printed_is_the_count_run(n_cases, capsys):
    """check runs the solution on exactly n cases, and says n: not n - 1, not 0."""
    calls = []

    def counted(x, rows):
        calls.append(1)
        return GOOD["pick_per_column"](x, rows)

    check(counted, "pick_per_column", n_cases=n_cases)
    expected = EXERCISES["pick_per_column"].n_cases if n_cases is None else n_cases
    assert len(calls) == expected
    assert capsys.readouterr().out == (
        f"✓ pick_per_column: all {expected} random cases match the reference.\n"
    )


def test_an_unfinished_stub_is_not_yet_with_the_first_case(capsys):
    def pick_per_column(x, rows):
        raise NotImplementedError("your code here")

    check(pick_per_column, "pick_per_column", n_cases=5)  # returns: Run all carries on
    out = capsys.readouterr().out
    assert out.startswith(
        "… pick_per_column: not yet. Your function raised NotImplementedError on case 1 of 5"
    )
    assert "  x: float32" in out and "  rows: int64" in out
    assert "then run this cell again" in out


@pytest.mark.parametrize("name", sorted(n for n, e in EXERCISES.items() if e.verify is None))
def test_the_reference_passes_its_own_check(name, capsys):
    """An exercise checked on values alone can be passed: its reference is a right answer.

    (Exercises with an extra requirement, ``verify``, ask for more than the loop reference
    gives; their solutions are the hidden solution cells, which nbval runs with every notebook.)
    """
    check(EXERCISES[name].reference, name, n_cases=10)
    assert capsys.readouterr().out.startswith(f"✓ {name}: all 10 random cases")


def test_each_exercise_is_checked_against_the_reference_of_its_name():
    """A reader who opens snippets.reference finds each exercise's loop under the exercise's
    own name (issue 11: patched_output, ema_step and linear_mse were named otherwise)."""
    for name, exercise in EXERCISES.items():
        assert getattr(reference, name, None) is exercise.reference, name
        assert name in reference.__all__, name


def test_the_catalogue_lists_the_exercises_in_chapter_order():
    chapters = [exercise.reference.__code__.co_firstlineno for exercise in EXERCISES.values()]
    assert chapters == sorted(chapters), "reference.py and the catalogue are in one order"
