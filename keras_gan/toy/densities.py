"""Known 1-D densities, and the quantities of the paper's theory on a grid.

Everything is NumPy: the figures and tests compare what the networks learn
against these exact values.
"""

import dataclasses

import numpy as np

LOG_4 = float(np.log(4.0))


@dataclasses.dataclass(frozen=True)
class Gaussian:
    mean: float
    std: float

    def pdf(self, x):
        x = np.asarray(x, np.float64)
        return np.exp(-0.5 * ((x - self.mean) / self.std) ** 2) / (self.std * np.sqrt(2 * np.pi))

    def sample(self, n, rng):
        return rng.normal(self.mean, self.std, size=(n, 1)).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class Mixture:
    """Equal-weight mixture of Gaussians."""

    components: tuple

    def pdf(self, x):
        return np.mean([c.pdf(x) for c in self.components], axis=0)

    def sample(self, n, rng):
        which = rng.integers(len(self.components), size=n)
        draws = [c.sample(n, rng) for c in self.components]
        return np.choose(which[:, None], draws).astype(np.float32)


def grid(lo=-6.0, hi=6.0, points=4001):
    return np.linspace(lo, hi, points)


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1), 1/2 where both vanish."""
    p_data, p_g = np.asarray(p_data), np.asarray(p_g)
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def kl(p, q, x):
    """KL(p || q) in nats, by the trapezoid rule on grid x (0 log 0 = 0)."""
    terms = np.where(p > 0, p * (np.log(np.maximum(p, 1e-300)) - np.log(np.maximum(q, 1e-300))), 0.0)
    return float(np.trapezoid(terms, x))


def jsd(p, q, x):
    """Jensen-Shannon divergence in nats: 0 iff p = q, at most log 2."""
    m = 0.5 * (p + q)
    return 0.5 * kl(p, m, x) + 0.5 * kl(q, m, x)


def virtual_training_criterion(p_data, p_g, x):
    """C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g) (Theorem 1)."""
    return -LOG_4 + 2.0 * jsd(p_data, p_g, x)
