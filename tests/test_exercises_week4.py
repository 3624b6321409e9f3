"""Week 4's exercise checks: right answers pass, wrong ones and stubs are explained."""
from lessons import model as mv2
from lessons.exercises import week4


def stub(*args):
    raise NotImplementedError()


def test_check_first_layer_index(capsys):
    assert week4.check_first_layer_index(week4.first_layer_index)
    assert "block 13 starts at layer 116, block_13_expand" in capsys.readouterr().out

    assert not week4.check_first_layer_index(lambda names, block: week4.first_layer_index(names, block) + 1)
    assert "counts from 0" in capsys.readouterr().out
    assert not week4.check_first_layer_index(lambda names, block: names[week4.first_layer_index(names, block)])
    assert "not its name" in capsys.readouterr().out

    def by_prefix(names, block):
        return next(i for i, name in enumerate(names) if name.startswith(f"block_{block}_"))

    assert not week4.check_first_layer_index(by_prefix)
    assert "expanded_conv" in capsys.readouterr().out
    assert not week4.check_first_layer_index(stub)
    assert "not written yet" in capsys.readouterr().out


def test_the_course_answer_agrees_with_the_model():
    model = week4._real_base()
    for block in range(17):
        assert week4.first_layer_index(week4.layer_names(), block) == mv2.first_layer_of(model, block)[0]


def counting(include_batchnorm=0.0, offset=0):
    """A student's answer that counts BatchNormalization's share ``include_batchnorm`` and
    starts ``offset`` parts late."""
    def answer(layers, block):
        first = mv2.BLOCKS.index(block) + offset
        total = 0
        for name, kind, params in layers:
            if mv2.BLOCKS.index(mv2.block_of(name)) >= first:
                total += params * include_batchnorm if kind == "BatchNormalization" else params
        return int(total)
    return answer


def test_check_trainable_after_unfreezing(capsys):
    assert week4.check_trainable_after_unfreezing(counting())
    assert "from block 13, 1,663,360" in capsys.readouterr().out
    assert not week4.check_trainable_after_unfreezing(counting(include_batchnorm=1))
    assert "all four" in capsys.readouterr().out
    assert not week4.check_trainable_after_unfreezing(counting(include_batchnorm=0.5))
    assert "gamma and beta" in capsys.readouterr().out
    assert not week4.check_trainable_after_unfreezing(counting(offset=1))
    assert "itself is unfrozen too" in capsys.readouterr().out
    assert not week4.check_trainable_after_unfreezing(lambda layers, block: "lots")
    assert "returns 'lots'" in capsys.readouterr().out
    assert not week4.check_trainable_after_unfreezing(stub)
    assert "not written yet" in capsys.readouterr().out


def test_the_trainable_count_is_measured_on_the_model():
    model = week4._real_base()
    mv2.set_trainable_from(model, 13)
    table = {row["part"]: row["trainable"] for row in mv2.block_table(model)}
    mv2.set_trainable_from(model, None)
    assert week4.trainable_after_unfreezing(None, 13) == sum(v for k, v in table.items() if k != "head")


def test_check_kept_epochs(capsys):
    assert week4.check_kept_epochs(week4.kept_epochs)
    assert "✓" in capsys.readouterr().out

    def best_accuracy(history):
        phases = {row["phase"] for row in history}
        return {p: max((r for r in history if r["phase"] == p), key=lambda r: r["val_accuracy"])["epoch"]
                for p in phases}

    assert not week4.check_kept_epochs(best_accuracy)
    assert "validation LOSS" in capsys.readouterr().out

    def overall(history):
        row = min(history, key=lambda r: r["val_loss"])
        return {row["phase"]: row["epoch"]}

    assert not week4.check_kept_epochs(overall)
    assert "each phase keeps its own" in capsys.readouterr().out

    def position(history):
        kept = week4.kept_epochs(history)
        return {p: [r for r in history if r["phase"] == p].index(history[e - 1]) for p, e in kept.items()}

    assert not week4.check_kept_epochs(position)
    assert "epoch number" in capsys.readouterr().out
    assert not week4.check_kept_epochs(stub)
    assert "not written yet" in capsys.readouterr().out
    assert week4.kept_epochs(week4.HISTORIES[2]) == {1: 3}, "a run without phase 2"


def test_a_function_that_finds_nothing_for_block_0_is_told_its_name(capsys):
    def misses_block_0(names, block):
        for index, name in enumerate(names):
            if name.startswith(f"block_{block}_"):
                return index

    assert not week4.check_first_layer_index(misses_block_0)
    assert "returns None" in (out := capsys.readouterr().out) and "expanded_conv" in out
