"""The ReLU spiral: what an activation in n dimensions lets a linear map recover."""
import numpy as np
import pytest

from lessons import manifold


def roundtrip(n, activation, seed=0, radius=manifold.RADIUS):
    x = manifold.spiral(radius=radius)
    T = manifold.random_lift(n, seed)
    activated = manifold.lift(x, T, activation)
    return x, T, activated, manifold.recover(activated, T, activation)


@pytest.mark.parametrize("n", [2, 3, 7, 30])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_recovers_exactly_for_any_n(n, seed):
    x, T, activated, recovered = roundtrip(n, "linear", seed)
    assert manifold.reconstruction_error(x, recovered) < 1e-12
    assert manifold.reconstruction_error(x, manifold.paper_recovery(activated, T)) < 1e-12


def test_relu_error_falls_as_n_grows():
    errors = manifold.error_curve([2, 3, 5, 10, 30], "relu", trials=10)
    assert errors[0] > 0.3  # n = 2: a large part of the spiral is gone
    assert all(a > b for a, b in zip(errors[:4], errors[1:4]))
    assert errors[-1] < 1e-9  # n = 30: everything comes back


def test_relu6_clips_more_than_relu_at_the_chosen_scale_and_equals_it_when_small():
    dims = [2, 3, 5, 8, 12]
    assert sum(manifold.error_curve(dims, "relu6", trials=5)) > sum(manifold.error_curve(dims, "relu", trials=5)) + 0.3
    assert manifold.clipped_above(manifold.RADIUS) > 0.05
    assert manifold.clipped_above(0.5) < 1e-12
    small = 0.5  # t·x never reaches 6: ReLU6 is ReLU
    assert (manifold.error_curve(dims, "relu6", trials=5, radius=small)
            == manifold.error_curve(dims, "relu", trials=5, radius=small))


def test_lost_points_are_the_unrecoverable_ones():
    x, T, activated, recovered = roundtrip(2, "relu")
    lost = np.sum(manifold.surviving(activated, "relu"), axis=1) < 2
    assert 0 < manifold.lost_fraction(activated, "relu") == lost.mean()
    assert np.allclose(recovered[~lost], x[~lost])  # two unclipped coordinates: exact
    assert not np.allclose(recovered[lost], x[lost])
    x, T, activated, recovered = roundtrip(30, "relu")
    assert manifold.lost_fraction(activated, "relu") == 0 and np.allclose(recovered, x)


def test_one_surviving_coordinate_lands_on_its_line():
    T = np.array([[1.0, 0.0], [0.0, 1.0]])
    point = np.array([[3.0, -2.0]])  # y is clipped by ReLU; x survives
    assert np.allclose(manifold.recover(manifold.lift(point, T, "relu"), T, "relu"), [[3.0, 0.0]])
    assert np.allclose(manifold.recover(manifold.lift(-np.abs(point), T, "relu"), T, "relu"), [[0.0, 0.0]])


def test_paper_recovery_halves_a_wide_relu():
    x, T, activated, _ = roundtrip(2000, "relu")
    # ReLU(z) = z/2 + |z|/2 and the |z| part averages out over many random directions.
    assert manifold.reconstruction_error(x / 2, manifold.paper_recovery(activated, T)) < 0.1


def test_deterministic_with_a_seed():
    assert np.array_equal(manifold.random_lift(5, seed=3), manifold.random_lift(5, seed=3))
    assert not np.array_equal(manifold.random_lift(5, seed=3), manifold.random_lift(5, seed=4))
    assert manifold.error_curve([3, 4], "relu", 4, seed=7) == manifold.error_curve([3, 4], "relu", 4, seed=7)
    assert manifold.error_curve([3, 4], "relu", 4, seed=7) != manifold.error_curve([3, 4], "relu", 4, seed=8)
    # The T for a given n does not depend on which other n are in the list.
    assert manifold.error_curve([4], "relu", 4) == manifold.error_curve([2, 4], "relu", 4)[1:]


def test_reconstruction_error():
    x = manifold.spiral()
    assert manifold.reconstruction_error(x, x) == 0
    assert manifold.reconstruction_error(x, np.zeros_like(x)) == pytest.approx(1)
    assert manifold.reconstruction_error(x, x / 2) == pytest.approx(0.5)
    assert manifold.reconstruction_error(10 * x, 5 * x) == pytest.approx(0.5)  # relative: no units


def test_recovery_gathers_one_setting():
    linear = manifold.recovery(2, "linear")
    assert linear["error"] < 1e-12 and linear["lost"] == 0
    narrow, wide = manifold.recovery(2, "relu"), manifold.recovery(30, "relu")
    assert narrow["error"] > 0.3 and narrow["lost"] > 0.2
    assert wide["error"] < 1e-9 and wide["lost"] == 0
    assert narrow["original"].shape == narrow["recovered"].shape == narrow["paper"].shape == (manifold.POINTS, 2)
    x, T, activated, recovered = roundtrip(5, "relu6", seed=4, radius=3)
    again = manifold.recovery(5, "relu6", radius=3, seed=4)
    np.testing.assert_array_equal(again["recovered"], recovered)
    np.testing.assert_array_equal(again["paper"], manifold.paper_recovery(activated, T))


def test_error_curves_has_one_curve_per_activation():
    dims = (2, 3, 30)
    curves = manifold.error_curves(dims, trials=3)
    assert list(curves) == list(manifold.ACTIVATIONS) == list(manifold.LABELS)
    for name, errors in curves.items():
        assert errors == manifold.error_curve(dims, name, trials=3)
    assert max(curves["linear"]) < 1e-12 and curves["relu"][0] > curves["relu"][-1]
