"""The ``check_...()`` functions of the weekly exercises, one module per week.

A check never raises on a wrong answer: it prints what is wrong in plain words and
returns False, so that a student's notebook runs on to the next exercise; a right
answer prints a short confirmation and returns True.

Public API: :func:`passed`, :func:`failed`, :func:`call`, :func:`same`, :func:`hint_for`.
"""


def passed(message):
    print(f"✓ {message}")
    return True


def failed(message):
    print(f"✗ {message}")
    return False


def call(function, *args):
    """(result, None) of ``function(*args)``, or (None, a sentence about the error)."""
    try:
        return function(*args), None
    except NotImplementedError:
        return None, "is not written yet (it raises NotImplementedError)"
    except Exception as error:  # a student's bug: report it, don't crash the notebook
        return None, f"raised {type(error).__name__}: {error}"


def same(answer, right):
    """answer == right, and False for an answer that cannot be compared (a list, an array...)."""
    try:
        return bool(answer == right)
    except (TypeError, ValueError):
        return False


def hint_for(hints, answer, default):
    """The hint of the first known wrong answer that ``answer`` equals, else ``default``.

    ``hints`` maps (or pairs) wrong answers to what their author probably did.
    """
    pairs = hints.items() if isinstance(hints, dict) else hints
    return next((hint for value, hint in pairs if same(answer, value)), default)
