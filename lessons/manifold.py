"""Why the bottleneck is linear: what ReLU does to a 2-D manifold lifted into n dimensions.

The paper's Figure 1 experiment. A spiral of 2-D points ``x`` is lifted into n dimensions
by a random matrix T (n×2), an activation is applied, and we try to get ``x`` back:

    z = T·x   (n numbers per point)   ->   a = act(z)   ->   x̂ = ?

ReLU keeps the coordinates where z > 0 exactly and sets the others to 0 (ReLU6 also clips
those above 6). The kept coordinates are exact linear measurements ``t_i·x``: when at least
two of them survive (two independent rows of T), solving them by least squares (the
pseudo-inverse of the surviving rows of T) gives ``x`` back exactly. When fewer survive,
the point cannot be told apart from others any more: information is lost.

With n = 2 that happens to whole arcs of the spiral; with n = 30 the chance that fewer than
two of 30 random directions see a point is tiny. That is the argument for a block that
applies ReLU6 only in its WIDE (expanded) space and leaves the narrow projection linear.

Public API: :data:`RADIUS`, :data:`POINTS`, :data:`ACTIVATIONS`, :data:`LABELS`, :data:`DIMS`,
:func:`spiral`, :func:`random_lift`, :func:`lift`, :func:`surviving`, :func:`recover`,
:func:`paper_recovery`, :func:`reconstruction_error`, :func:`lost_fraction`, :func:`recovery`,
:func:`error_curve`, :func:`error_curves`, :func:`clipped_above`.
"""
import numpy as np

# A spiral whose outer end has radius 8: the pre-activations T·x then reach beyond 6, so
# ReLU6's cap clips some of them (at radius 1, ReLU6 and ReLU would be identical here).
RADIUS = 8.0
POINTS = 600
TURNS = 2.0
ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "relu6": lambda z: np.clip(z, 0.0, 6.0),
}
# Where each activation passes its input through unchanged (open intervals): an output
# inside is an exact measurement t_i·x; an output on the edge (0, or 6) may have been clipped.
PASS_THROUGH = {"linear": (-np.inf, np.inf), "relu": (0.0, np.inf), "relu6": (0.0, 6.0)}
# Each activation's name in figures and controls.
LABELS = {"linear": "linear (identity)", "relu": "ReLU", "relu6": "ReLU6"}
DIMS = tuple(range(2, 31))  # the n explored, as in the paper's Figure 1 (n = 2 ... 30)


def spiral(points=POINTS, turns=TURNS, radius=RADIUS):
    """(points, 2) coordinates of a spiral from radius/10 out to ``radius``."""
    s = np.linspace(0.0, 1.0, points)
    angle = 2 * np.pi * turns * s
    r = radius * (0.1 + 0.9 * s)  # start off-centre: the centre maps to zero whatever T is
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)


def random_lift(n, seed=0, trial=0):
    """A random n×2 matrix T (standard normal), the same for the same (n, seed, trial)."""
    return np.random.default_rng([seed, n, trial]).standard_normal((n, 2))


def lift(points, T, activation):
    """act(T·x) for every point: (points, n)."""
    return ACTIVATIONS[activation](points @ T.T)


def surviving(activated, activation):
    """True where an output is an exact, unclipped measurement t_i·x."""
    low, high = PASS_THROUGH[activation]
    return (activated > low) & (activated < high)


def recover(activated, T, activation):
    """x̂ from act(T·x) and T alone: least squares over each point's unclipped coordinates.

    With every coordinate kept (linear) this is the plain pseudo-inverse of T. A point with
    one surviving coordinate lands on the closest point of that line; with none, on 0.
    """
    kept = surviving(activated, activation).astype(float)
    # Each point's own least-squares problem, through its normal equations (T's kept rows only).
    gram = np.einsum("pn,ni,nj->pij", kept, T, T)
    rhs = np.einsum("pn,ni->pi", kept * activated, T)
    return np.einsum("pij,pj->pi", np.linalg.pinv(gram), rhs)


def paper_recovery(activated, T):
    """x̂ = T⁺·act(T·x): the paper's Figure 1, which applies the pseudo-inverse to every coordinate.

    It mixes the clipped zeros in, so even a wide ReLU gives a distorted (though unfolded)
    spiral of about half the size: ReLU(z) = z/2 + |z|/2.
    """
    return activated @ np.linalg.pinv(T).T


def reconstruction_error(original, recovered):
    """Root-mean-square distance between the point sets, relative to the RMS radius of the original.

    0 means nothing was lost; 1 is as far off as answering 0 for every point.
    """
    original, recovered = np.asarray(original, float), np.asarray(recovered, float)
    return float(np.sqrt(np.mean(np.sum((original - recovered) ** 2, axis=1)) / np.mean(np.sum(original ** 2, axis=1))))


def lost_fraction(activated, activation):
    """The fraction of points with fewer than two unclipped coordinates: they cannot be recovered."""
    return float(np.mean(np.sum(surviving(activated, activation), axis=1) < 2))


def recovery(n, activation, radius=RADIUS, seed=0):
    """One lift into ``n`` dimensions and back: the spiral, both recoveries, the error, the lost points."""
    x = spiral(radius=radius)
    T = random_lift(n, seed)
    activated = lift(x, T, activation)
    recovered = recover(activated, T, activation)
    return {"original": x, "recovered": recovered, "paper": paper_recovery(activated, T),
            "error": reconstruction_error(x, recovered), "lost": lost_fraction(activated, activation)}


def error_curve(dims, activation, trials=10, seed=0, radius=RADIUS):
    """Mean reconstruction error for each n in ``dims``, over ``trials`` random T each."""
    x = spiral(radius=radius)

    def error(T):
        return reconstruction_error(x, recover(lift(x, T, activation), T, activation))

    return [float(np.mean([error(random_lift(n, seed, trial)) for trial in range(trials)])) for n in dims]


def error_curves(dims=DIMS, trials=10, seed=0, radius=RADIUS):
    """{activation: :func:`error_curve`} for every activation."""
    return {name: error_curve(dims, name, trials, seed, radius) for name in ACTIVATIONS}


def clipped_above(radius=RADIUS, cap=6.0):
    """The fraction of pre-activations t·x above ``cap``, over the spiral's points and random rows t.

    With t standard normal, t·x is normal with standard deviation |x|.
    """
    from math import erfc, sqrt

    distances = np.linalg.norm(spiral(radius=radius), axis=1)
    return float(np.mean([0.5 * erfc(cap / (d * sqrt(2))) for d in distances]))
