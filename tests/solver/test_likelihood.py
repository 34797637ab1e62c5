"""Log-likelihood by the instantaneous change of variables, against exact Gaussian densities (float64).

Data ``z ~ N(m, s^2 I)`` on the linear path ``x_t = t z + (1 - t) eps`` has the exact marginal
``p_t = N(t m, (t^2 s^2 + (1 - t)^2) I)`` and the exact velocity ``u_t(x) = t m + c_t (x - t m)`` with
``c_t = (t s^2 - (1 - t)) / v_t``, so ``log p_1`` is known in closed form.
"""

from __future__ import annotations

import math
from typing import ClassVar

import pytest
import torch
from torch import Tensor, nn

from flowkit import ModelField
from flowkit.solver.likelihood import log_likelihood, sample_with_log_prob
from flowkit.testing import ReferencePath, reference_parameterization

S = 0.5
M = 0.7


class LinearPath(ReferencePath):
    """:class:`~flowkit.testing.ReferencePath` on the whole of ``[0, 1]``, so ``log p_1`` is exact."""

    name: ClassVar[str] = "linear-test"

    @property
    def time_range(self) -> tuple[float, float]:
        return (0.0, 1.0)


class GaussianVelocity(nn.Module):
    """The exact marginal velocity of N(m, s^2 I) data; ``scale`` is a parameter for gradient tests."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(S, dtype=torch.float64))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        tt = t[:, None]
        s2 = self.scale**2
        v = tt**2 * s2 + (1 - tt) ** 2
        return M + (tt * s2 - (1 - tt)) / v * (x - tt * M)


def exact_log_prob(x: Tensor, s: float = S) -> Tensor:
    d = x.shape[1]
    return -0.5 * ((x - M) ** 2).sum(1) / s**2 - d * (math.log(s) + 0.5 * math.log(2 * math.pi))


def field() -> ModelField:
    return ModelField(GaussianVelocity(), reference_parameterization("velocity"), LinearPath())


def data(n: int, d: int, seed: int = 0) -> Tensor:
    return M + S * torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_exact_divergence_matches_the_exact_log_density() -> None:
    x = data(64, 3)
    result = log_likelihood(field(), x, steps=50)
    d = x.shape[1]
    assert float((result.log_prob - exact_log_prob(x)).abs().max()) / d < 1e-6
    assert result.stderr is None
    assert result.nfe == 50 * 4
    torch.testing.assert_close(result.bits_per_dim, -exact_log_prob(x) / (d * math.log(2)), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(result.nats_per_dim, -exact_log_prob(x) / d, rtol=1e-6, atol=1e-6)


class LinearField(nn.Module):
    """``u(x) = A x``: the flow is ``x_t = expm(A (t - t0)) x_0`` and ``div u = tr A`` everywhere."""

    def __init__(self, a: Tensor) -> None:
        super().__init__()
        self.a = a

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return x @ self.a.T


@pytest.mark.parametrize("probe_kind", ["rademacher", "gaussian"])
def test_hutchinson_is_within_its_standard_error(probe_kind: str) -> None:
    d = 6
    a = 0.4 * torch.randn(d, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    path = LinearPath()
    f = ModelField(LinearField(a), reference_parameterization("velocity"), path)
    x = torch.randn(200, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    result = log_likelihood(
        f,
        x,
        steps=20,
        divergence="hutchinson",
        probes=16,
        probe_kind=probe_kind,  # type: ignore[arg-type]
        generator=torch.Generator().manual_seed(2),
    )
    x0 = x @ torch.linalg.matrix_exp(-a).T
    exact = path.prior_log_prob(x0) - torch.trace(a)
    assert result.stderr is not None and bool((result.stderr > 1e-3).all())
    z = (result.log_prob - exact) / result.stderr
    # Standardised errors: centred, and nearly all within 3 standard errors.
    assert float((z.abs() < 3).double().mean()) > 0.95
    assert abs(float(z.mean())) < 0.3
    assert result.bits_per_dim_stderr is not None
    exact_div = log_likelihood(f, x, steps=20)
    torch.testing.assert_close(exact_div.log_prob, exact, rtol=1e-5, atol=1e-5)


def test_sampling_with_log_prob_agrees_with_the_reverse_pass() -> None:
    f = field()
    x0 = torch.randn(32, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    forward = sample_with_log_prob(f, x0, steps=50)
    torch.testing.assert_close(forward.log_prob, exact_log_prob(forward.latent), rtol=1e-6, atol=1e-6)
    backward = log_likelihood(f, forward.latent, steps=50)
    torch.testing.assert_close(backward.latent, x0, rtol=1e-6, atol=1e-6)


def test_gradients_flow_for_likelihood_training() -> None:
    f = field()
    x = data(16, 2, seed=5)
    result = log_likelihood(f, x, steps=20, create_graph=True)
    nll = -result.log_prob.mean()
    (grad,) = torch.autograd.grad(nll, [f.network.scale])  # type: ignore[union-attr]
    # At the true scale the expected NLL is minimal; check against a finite difference instead of 0.
    eps = 1e-5
    with torch.no_grad():
        f.network.scale += eps  # type: ignore[union-attr, operator]
        up = -log_likelihood(f, x, steps=20).log_prob.mean()
        f.network.scale -= 2 * eps  # type: ignore[union-attr, operator]
        down = -log_likelihood(f, x, steps=20).log_prob.mean()
    assert abs(float(grad) - float(up - down) / (2 * eps)) < 1e-5


def test_bad_arguments_are_refused() -> None:
    x = data(4, 2)
    with pytest.raises(ValueError, match="at least 2 probes"):
        log_likelihood(field(), x, divergence="hutchinson", probes=1)
    with pytest.raises(ValueError, match="unknown divergence"):
        log_likelihood(field(), x, divergence="trace")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown scheme"):
        log_likelihood(field(), x, scheme="rk45")  # type: ignore[arg-type]


@pytest.mark.slow
def test_gmm_oracle_log_likelihood_matches_the_mixture_density() -> None:
    gmm = pytest.importorskip("flowkit_std")
    mixture = gmm.GaussianMixture()
    path = gmm.CondOTPath()
    f = gmm.oracle_field(mixture, path)
    x = mixture.sample(64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    result = log_likelihood(f, x, steps=100)
    t1 = path.time_range[1]
    exact = mixture.marginal_log_prob(path, x, t1)
    assert float((result.log_prob - exact).abs().max()) / 2 < 1e-3
    hutch = log_likelihood(
        f, x, steps=50, divergence="hutchinson", probes=8, generator=torch.Generator().manual_seed(1)
    )
    assert hutch.stderr is not None
    assert float(((hutch.log_prob - exact).abs() < 3 * hutch.stderr + 1e-3).double().mean()) > 0.9


def test_midpoint_computes_no_divergence_at_its_discarded_first_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Midpoint's first stage only moves the state: one velocity-only and one divergence evaluation per step."""
    import flowkit.solver.likelihood as likelihood

    calls: list[str] = []
    real = likelihood.velocity_and_divergence

    def counting(*args: object, **kwargs: object) -> object:
        calls.append("divergence")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(likelihood, "velocity_and_divergence", counting)
    f = field()
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    result = log_likelihood(f, x, steps=7, scheme="midpoint")
    assert result.nfe == 14 and len(calls) == 7
