"""The U-Net: shapes, dtypes, gradients, conditioning, batch independence, errors, and that it learns."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
import torch

import flowkit_nets.plugin
from flowkit import PluginHost
from flowkit.errors import IncompatibleComponentsError
from flowkit_nets import UNet

SMALL: dict[str, Any] = {"channels": 8, "groups": 2, "attention_heads": 2, "time_dim": 16}


def inputs(shape: tuple[int, ...], batch: int = 3, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(batch, *shape, generator=g, dtype=dtype), torch.rand(batch, generator=g, dtype=dtype)


def test_plugin_registers_unet() -> None:
    host = PluginHost(autoload=False)
    host.register(flowkit_nets.plugin, "nets")
    assert {"mlp", "unet"} <= set(host.registry.names("model"))


@pytest.mark.parametrize(
    ("shape", "params"),
    [
        ((1, 8, 8), {}),
        ((1, 8, 8), {"channel_mult": [1, 2, 2], "num_res_blocks": 2}),
        ((3, 16, 16), {**SMALL, "channel_mult": [1, 2, 2]}),
        ((2, 32, 32), {**SMALL, "channel_mult": [1, 1, 2, 2], "attention": False}),
        ((1, 8, 16), {**SMALL}),
        ((4, 5, 7), {**SMALL, "channel_mult": [2]}),
    ],
)
def test_output_has_the_input_shape_and_dtype(shape: tuple[int, ...], params: dict[str, Any]) -> None:
    torch.manual_seed(0)
    model = UNet(shape, **params).eval()
    x, t = inputs(shape)
    out = model(x, t)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert bool(torch.isfinite(out).all())
    model64 = model.to(torch.float64)
    x64, t64 = inputs(shape, dtype=torch.float64)
    out64 = model64(x64, t64)
    assert out64.shape == x64.shape and out64.dtype == torch.float64


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    model = UNet((1, 8, 8), num_classes=3, **SMALL, channel_mult=[1, 2, 2], dropout=0.1)
    x, t = inputs((1, 8, 8), batch=4)
    labels = torch.tensor([0, 1, 2, 3])  # 3 is the "no label" token: every embedding row is used
    model(x, t, labels).pow(2).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert float(p.grad.abs().sum()) > 0, name


def test_output_depends_on_time_and_not_on_other_batch_members() -> None:
    torch.manual_seed(0)
    model = UNet((1, 8, 8), **SMALL).eval()
    x, t = inputs((1, 8, 8), batch=5)
    with torch.no_grad():
        out = model(x, t)
        alone = torch.cat([model(x[i : i + 1], t[i : i + 1]) for i in range(5)])
        later = model(x, (t + 0.3).clamp(max=1.0))
    torch.testing.assert_close(out, alone, rtol=1e-5, atol=1e-6)
    assert float((out - later).abs().max()) > 1e-3


def test_conditioning_changes_the_output_and_the_null_label_is_the_default() -> None:
    torch.manual_seed(0)
    model = UNet((1, 8, 8), num_classes=10, **SMALL).eval()
    assert model.label_embedding is not None and model.label_embedding.num_embeddings == 11
    x, t = inputs((1, 8, 8), batch=4)
    with torch.no_grad():
        a = model(x, t, torch.tensor([0, 1, 2, 3]))
        b = model(x, t, torch.tensor([4, 5, 6, 7]))
        none = model(x, t)
        null = model(x, t, torch.full((4,), 10))
    assert bool(((a - b).abs().amax(dim=(1, 2, 3)) > 1e-4).all())
    assert not torch.allclose(a, none)
    torch.testing.assert_close(none, null, rtol=0, atol=0)


def test_unconditional_model_refuses_a_condition() -> None:
    model = UNet((1, 8, 8), **SMALL)
    assert model.label_embedding is None
    x, t = inputs((1, 8, 8))
    with pytest.raises(ValueError, match="built without classes"):
        model(x, t, torch.zeros(3, dtype=torch.long))


def test_dropout_is_active_only_in_training() -> None:
    torch.manual_seed(0)
    model = UNet((1, 8, 8), **SMALL, dropout=0.5)
    x, t = inputs((1, 8, 8))
    model.train()
    assert not torch.equal(model(x, t), model(x, t))
    model.eval()
    assert torch.equal(model(x, t), model(x, t))


@pytest.mark.parametrize(
    ("shape", "params", "message"),
    [
        ((2,), {}, r"model 'unet': needs images of shape \(C, H, W\), got event shape \(2,\)"),
        ((1, 6, 6), {"channel_mult": [1, 2, 2]}, r"spatial size 6x6 cannot be halved 2 times \(3 levels"),
        ((1, 8, 12), {"channel_mult": [1, 2, 2, 2]}, r"use sizes divisible by 8 or fewer levels"),
    ],
)
def test_shapes_the_unet_cannot_take(shape: tuple[int, ...], params: dict[str, Any], message: str) -> None:
    with pytest.raises(IncompatibleComponentsError, match=message):
        UNet(shape, **params)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"channels": 12, "groups": 8}, r"groups 8 must divide every level's channel count, not \[12\]"),
        ({"channels": 8, "groups": 4, "attention_heads": 3}, r"attention_heads 3 must divide the lowest level's 16"),
        ({"channel_mult": []}, r"channel_mult"),
        ({"time_dim": 15}, r"time_dim"),
        ({"dropout": 1.0}, r"dropout"),
    ],
)
def test_bad_params_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        UNet((1, 8, 8), **params)


def test_learns_a_class_and_time_dependent_target() -> None:
    """Regress ``t * pattern[label]``: the loss must fall far below what ignoring the label allows."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    patterns = torch.randn(4, 1, 8, 8, generator=g)
    model = UNet((1, 8, 8), num_classes=4, **SMALL)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(80):
        labels = torch.randint(0, 4, (32,), generator=g)
        t = torch.rand(32, generator=g)
        x = torch.randn(32, 1, 8, 8, generator=g)
        loss = (model(x, t, labels) - t[:, None, None, None] * patterns[labels]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    labels = torch.arange(4).repeat(64)
    t = torch.rand(256, generator=g)
    x = torch.randn(256, 1, 8, 8, generator=g)
    target = t[:, None, None, None] * patterns[labels]
    with torch.no_grad():
        mse = (model(x, t, labels) - target).pow(2).mean().item()
    # best label-blind prediction: t * mean pattern
    blind = (t[:, None, None, None] * patterns.mean(0) - target).pow(2).mean().item()
    assert mse < 0.1 * blind
