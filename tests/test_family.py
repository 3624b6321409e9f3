"""The family: quoted tables well formed, costs computed from the real graphs, compound scaling."""
import math

import keras
import pytest

from lessons import convcost, family

ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


def test_the_quoted_checkpoints_are_well_formed():
    table = family.MOBILENETV2_CHECKPOINTS
    assert len(table) == 22  # 4 widths × 5 sizes, and 1.3 and 1.4 at 224
    assert {alpha for alpha, _ in table} == set(ALPHAS)
    assert {size for _, size in table} == {96, 128, 160, 192, 224}
    for (alpha, size), quoted in table.items():
        assert quoted.source == family.SLIM_README
        assert 40 < quoted.top1 < 80 and 0 < quoted.macs_m < 600 and 1 < quoted.params_m < 7
        # A checkpoint's parameters do not depend on the image size.
        assert quoted.params_m == table[alpha, 224].params_m
    for alpha in (0.35, 0.5, 0.75, 1.0):  # a larger image costs more and is more accurate
        by_size = [table[alpha, size] for size in (96, 128, 160, 192, 224)]
        assert [q.macs_m for q in by_size] == sorted(q.macs_m for q in by_size)
        assert [q.top1 for q in by_size] == sorted(q.top1 for q in by_size)


def test_every_family_member_names_its_source():
    for name, member in family.FAMILY.items():
        assert member.quoted.source in (family.V1_PAPER, family.V2_PAPER, family.EFFICIENTNET_PAPER), name
        assert "arXiv" in member.quoted.source
        assert hasattr(keras.applications, member.builder)
    assert family.FAMILY["MobileNetV2"].quoted == (72.0, 300, 3.4, family.V2_PAPER)
    assert family.PIXEL1_MS[1.0, 224] == 75
    assert set(family.KERAS_DOCS_TOP1) <= {member.builder for member in family.FAMILY.values()}


@pytest.fixture(scope="module")
def counted():
    return {name: family.count_member(name) for name in family.FAMILY}


def test_the_family_is_counted_like_keras_counts_it(counted):
    for name, member in family.FAMILY.items():
        assert counted[name].params == counted[name].keras_params, name
        assert counted[name].size == member.size


def test_every_layer_of_efficientnet_is_counted_like_keras():
    model = keras.applications.EfficientNetB0(weights=None)
    kinds = {convcost.layer_kind(layer) for layer in model.layers}
    assert {"normalization", "depthwise", "pointwise", "standard", "batchnorm", "dense"} <= kinds
    for layer in model.layers:
        assert convcost.layer_cost(layer).params == layer.count_params(), layer.name
    assert convcost.cost_by_kind(model)["normalization"] == (2 * 3 + 1, 0)  # mean, variance, count


def test_the_counted_costs_match_the_papers(counted):
    v1, v2, b0, b1 = (counted[name] for name in ("MobileNet v1", "MobileNetV2", "EfficientNetB0", "EfficientNetB1"))
    assert (v1.params, v1.macs) == (4_253_864, 568_740_352)  # paper: 4.2 M, 569 M mult-adds
    assert round(v1.macs / 1e6) == family.FAMILY["MobileNet v1"].quoted.macs_m
    assert (v2.params, v2.macs) == (3_538_984, 300_774_272)
    assert (b0.params, b0.macs) == (5_330_571, 385_814_752)  # paper: 5.3 M, 0.39 B "FLOPs"
    assert round(b0.macs / 1e9, 2) == family.FAMILY["EfficientNetB0"].quoted.macs_m / 1000
    assert round(b1.macs / 1e9, 2) == 0.69  # paper: 0.70 B; the SE's multiplications are not counted
    assert counted["ResNet50"].params == 25_636_712


def test_the_structure_of_v1_v2_and_efficientnet(counted):
    v1, v2, b0 = counted["MobileNet v1"], counted["MobileNetV2"], counted["EfficientNetB0"]
    assert v1.blocks == (("depthwise", "pointwise"),) * 13 and v1.residual_adds == 0
    assert v2.blocks == (("depthwise", "pointwise"),) + (("pointwise", "depthwise", "pointwise"),) * 16
    assert v2.residual_adds == 10
    assert len(b0.blocks) == 16 and b0.residual_adds == 9
    assert len(counted["EfficientNetB1"].blocks) == 23
    assert counted["ResNet50"].blocks == ()
    assert family.structure(v1) == "13 depthwise blocks (13 of 2 conv layers), 0 residual additions"
    assert family.structure(v2) == ("17 depthwise blocks (16 of 3 conv layers + 1 of 2 conv layers), "
                                    "10 residual additions")
    assert family.structure(counted["ResNet50"]).startswith("no depthwise blocks")
    assert v2.widths == (32, 1280) and counted["MobileNetV2 (α = 1.4)"].widths == (48, 1792)


def test_depthwise_blocks_on_a_small_graph():
    inputs = keras.Input((8, 8, 4))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)  # stem
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)  # a v1 block
    x = keras.layers.Conv2D(8, 1)(x)
    x = keras.layers.Conv2D(24, 1)(x)  # an expanding block
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.Conv2D(8, 1)(x)
    x = keras.layers.GlobalAveragePooling2D(keepdims=True)(x)
    x = keras.layers.Conv2D(5, 1)(x)  # on a 1×1 map: not a block's layer
    blocks = family.depthwise_blocks(keras.Model(inputs, x))
    assert blocks == [("depthwise", "pointwise"), ("pointwise", "depthwise", "pointwise")]


def test_the_counted_family_is_cached():
    assert family.count_member("MobileNetV2") is family.count_member("MobileNetV2")


def test_family_table(counted):
    rows = family.family_table()
    assert [row["name"] for row in rows] == list(family.FAMILY)
    for row in rows:
        assert row["macs"] == counted[row["name"]].macs and row["top1"] == row["quoted"].top1


@pytest.fixture(scope="module")
def table():
    return convcost.width_resolution_table(ALPHAS, (96, 224))


def test_multiply_adds_at_other_sizes_are_exact(table):
    for alpha in ALPHAS:
        at = {row["size"]: row for row in table if row["alpha"] == alpha}
        assert family.macs_at_size(at[224], 96) == at[96]["macs"]
        assert family.macs_at_size(at[96], 224) == at[224]["macs"]
        assert family.macs_at_size(at[224], 224) == at[224]["macs"]
    [at_160] = convcost.width_resolution_table((0.75,), (160,))
    assert family.macs_at_size(next(row for row in table if row["alpha"] == 0.75), 160) == at_160["macs"]
    with pytest.raises(ValueError, match="multiples of 32"):
        family.macs_at_size(at[224], 100)


def test_the_tradeoff_table_agrees_with_the_readme(table):
    rows = family.tradeoff_table(table)
    assert len(rows) == 22
    built = {(row["alpha"], row["size"]): row for row in table}
    for row in rows:
        quoted = family.MOBILENETV2_CHECKPOINTS[row["alpha"], row["size"]]
        assert row["top1"] == quoted.top1
        assert int(row["macs"] / 1e6) == quoted.macs_m  # the README rounds down
        assert round(row["params_without_bn"] / 1e6, 2) == quoted.params_m
        if (row["alpha"], row["size"]) in built:
            assert row["macs"] == built[row["alpha"], row["size"]]["macs"]


def test_best_under_budget(table):
    rows = family.tradeoff_table(table)
    pick = {budget: family.best_under_budget(rows, budget * 1e6) for budget in (10, 60, 100, 150, 300, 1000)}
    assert pick[10] is None
    assert (pick[60]["alpha"], pick[60]["size"]) == (0.5, 160)
    assert (pick[100]["alpha"], pick[100]["size"]) == (0.5, 224)
    assert (pick[150]["alpha"], pick[150]["size"]) == (0.75, 160)
    # 300 M: the α = 1 model at 224 needs 300.77 M, so it does not fit; its README figure (300) does.
    assert (pick[300]["alpha"], pick[300]["size"]) == (1.0, 192)
    assert (pick[1000]["alpha"], pick[1000]["size"]) == (1.4, 224)
    ties = [{"macs": 5, "top1": 60.3}, {"macs": 3, "top1": 60.3}, {"macs": 1, "top1": 50.0}]
    assert family.best_under_budget(ties, 5) is ties[1]


def test_compound_scaling():
    assert family.per_phi() == pytest.approx(1.2 * 1.1**2 * 1.15**2) == pytest.approx(1.92027)
    assert round(family.per_phi()) == 2
    for phi in range(8):
        d, w, r = family.compound_coefficients(phi)
        assert (d, w, r) == pytest.approx((1.2**phi, 1.1**phi, 1.15**phi))
        assert family.macs_multiplier(d, w, r) == pytest.approx(family.per_phi() ** phi)
    assert family.compound_coefficients(0) == (1, 1, 1)
    # About 2^φ, a little less: 7 units of φ give 96×, not 128×.
    assert math.floor(family.per_phi() ** 7) == 96


def test_the_multiplier_is_what_a_convolution_costs():
    """d·w²·r² on the course's own formula: twice the channels, twice the image side, twice the layers."""
    one = convcost.standard_macs(3, 32, 64, 28)
    assert convcost.standard_macs(3, 64, 128, 56) == family.macs_multiplier(1, 2, 2) * one == 16 * one
    assert 2 * one == family.macs_multiplier(2, 1, 1) * one
    # A depthwise conv has one filter per channel: it grows like w·r², not w²·r², which is why a
    # wider MobileNet costs a little less than w² times as much.
    assert convcost.pointwise_macs(64, 128, 56) == family.macs_multiplier(1, 2, 2) * convcost.pointwise_macs(32, 64, 28)
    assert convcost.depthwise_macs(3, 64, 56) == 8 * convcost.depthwise_macs(3, 32, 28)
