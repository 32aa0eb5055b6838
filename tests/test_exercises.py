"""labutils.exercises: TODO for an unfilled answer, PASS, FAIL with the hint; never raises."""

from labutils.exercises import Problem, exercise


def _judge(answer):
    if answer != 4:
        raise Problem("the sum is off.", "re-read how the loop adds.")
    return "the sum is right."


def test_unfilled_answer_prints_todo(capsys):
    assert exercise("sum", None, _judge).status == "NOTE"
    assert "TODO sum: not done yet" in capsys.readouterr().out


def test_right_and_wrong_answers(capsys):
    assert exercise("sum", 4, _judge).status == "PASS"
    assert exercise("sum", 5, _judge).status == "FAIL"
    out = capsys.readouterr().out
    assert "PASS sum: the sum is right." in out and "FAIL sum: the sum is off." in out
    assert "Hint: re-read how the loop adds." in out


def test_student_code_raising_is_a_fail_line(capsys):
    assert exercise("sum", "x", lambda a: a + 1).status == "FAIL"
    assert "TypeError" in capsys.readouterr().out
