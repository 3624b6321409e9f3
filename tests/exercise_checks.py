"""How the tests of the weekly exercise checks judge a check: what it returns and what it prints first."""


def stub(*args):
    """An exercise as the student edition hands it out: not written yet."""
    raise NotImplementedError()


def assert_accepted_with(capsys, check, answer, *messages):
    """``check`` passes ``answer`` and its confirmation holds every one of ``messages``."""
    assert check(answer) is True
    out = capsys.readouterr().out
    assert out.startswith("✓") and all(message in out for message in messages), out


def assert_refused_with(capsys, check, answer, *messages):
    """``check`` fails ``answer`` and its explanation holds every one of ``messages``."""
    assert check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("✗") and all(message in out for message in messages), out
