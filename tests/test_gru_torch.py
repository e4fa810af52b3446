"""Tests for utils/networks/gru_torch.py: GRULayer against nn.GRU and an independent numpy
Keras GRU, the Keras <-> PyTorch weight conversion, gate activations, initialisers and loop
cost."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from utils.networks.gru_torch import (
    GATE_ACTIVATIONS,
    GRULayer,
    gate_fn,
    keras_to_torch_gru,
    torch_to_keras_gru,
)

BATCH, STEPS, FEATURES, HIDDEN = 3, 7, 5, 4


def make_pair(bidirectional: bool, dtype=torch.float64, seed: int = 0):
    """An nn.GRU and a GRULayer holding the same weights."""
    torch.manual_seed(seed)
    ref = torch.nn.GRU(FEATURES, HIDDEN, batch_first=True, bidirectional=bidirectional)
    layer = GRULayer(FEATURES, HIDDEN, bidirectional=bidirectional)
    layer.load_state_dict(ref.state_dict())
    return ref.to(dtype), layer.to(dtype)


def fwd_bwd(module, x, upstream, h0=None):
    """Output and gradients w.r.t. the input and every parameter (by name)."""
    x = x.clone().requires_grad_(True)
    out = module(x) if h0 is None else module(x, h0)
    out = out[0] if isinstance(out, tuple) else out
    (out * upstream).sum().backward()
    grads = {name: p.grad.clone() for name, p in module.named_parameters()}
    return out.detach(), x.grad, grads


def random_inputs(bidirectional: bool, dtype=torch.float64, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    dirs = 2 if bidirectional else 1
    x = torch.randn(BATCH, STEPS, FEATURES, generator=gen, dtype=dtype)
    upstream = torch.randn(BATCH, STEPS, dirs * HIDDEN, generator=gen, dtype=dtype)
    return x, upstream


# ---------------------------------------------------------------------------- vs nn.GRU


def test_state_dict_names_match_nn_gru():
    for bidirectional in (False, True):
        ref, layer = make_pair(bidirectional)
        assert list(layer.state_dict()) == list(ref.state_dict())
        for name, p in ref.state_dict().items():
            assert layer.state_dict()[name].shape == p.shape


@pytest.mark.parametrize("bidirectional", [False, True])
def test_loop_path_matches_nn_gru(bidirectional):
    ref, layer = make_pair(bidirectional)
    layer.use_fused = False
    assert not layer.fused
    x, upstream = random_inputs(bidirectional)
    out_ref, gx_ref, g_ref = fwd_bwd(ref, x, upstream)
    out, gx, g = fwd_bwd(layer, x, upstream)
    assert out.shape == (BATCH, STEPS, (2 if bidirectional else 1) * HIDDEN)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-6)
    torch.testing.assert_close(gx, gx_ref, rtol=0, atol=1e-6)
    assert g.keys() == g_ref.keys()
    for name in g_ref:
        torch.testing.assert_close(g[name], g_ref[name], rtol=0, atol=1e-6, msg=name)


@pytest.mark.parametrize("use_fused", [False, True])
def test_initial_state_matches_nn_gru(use_fused):
    ref, layer = make_pair(True)
    layer.use_fused = use_fused
    x, upstream = random_inputs(True)
    h0 = torch.randn(2, BATCH, HIDDEN, dtype=torch.float64)
    out_ref, gx_ref, _ = fwd_bwd(ref, x, upstream, h0)
    out, gx, _ = fwd_bwd(layer, x, upstream, h0)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-6)
    torch.testing.assert_close(gx, gx_ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_path_equals_nn_gru_exactly(bidirectional):
    ref, layer = make_pair(bidirectional, dtype=torch.float32)
    assert layer.fused
    x, upstream = random_inputs(bidirectional, dtype=torch.float32)
    out_ref, gx_ref, g_ref = fwd_bwd(ref, x, upstream)
    out, gx, g = fwd_bwd(layer, x, upstream)
    assert torch.equal(out, out_ref)
    assert torch.equal(gx, gx_ref)
    assert all(torch.equal(g[name], g_ref[name]) for name in g_ref)


def test_fused_only_for_the_nn_gru_recipe():
    for act in GATE_ACTIVATIONS:
        for reset_after in (False, True):
            layer = GRULayer(FEATURES, HIDDEN, act, reset_after)
            assert layer.fused == (act == "sigmoid" and reset_after)


def test_bad_arguments():
    with pytest.raises(ValueError, match="gate activation"):
        GRULayer(FEATURES, HIDDEN, gate_activation="hard_sigmoid")
    layer = GRULayer(FEATURES, HIDDEN)
    with pytest.raises(ValueError, match="input of shape"):
        layer(torch.zeros(BATCH, STEPS, FEATURES + 1))
    with pytest.raises(ValueError, match="expected one of"):
        layer.reset_parameters(kernel="glorot")


# ---------------------------------------------------------------------------- vs numpy Keras

NUMPY_GATES = {
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "hard_sigmoid_keras2": lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0),
    "hard_sigmoid_keras3": lambda a: np.clip(a / 6.0 + 0.5, 0.0, 1.0),
}


def keras_gru_numpy(x, kernel, recurrent_kernel, bias, activation, reset_after):
    """Step-by-step Keras GRU in Keras layout: x @ W, gate blocks [z, r, h].

    reset_after=False (Keras 2): one bias (3u,), reset gate applied to h before the matmul.
    reset_after=True: bias (2, 3u), reset gate applied to the recurrent projection.
    """
    act = NUMPY_GATES[activation]
    u = recurrent_kernel.shape[0]
    z_, r_, h_ = slice(0, u), slice(u, 2 * u), slice(2 * u, 3 * u)
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
    h = np.zeros((x.shape[0], u))
    out = []
    for t in range(x.shape[1]):
        xw = x[:, t] @ kernel + b_in
        if reset_after:
            hw = h @ recurrent_kernel + b_rec
            z = act(xw[:, z_] + hw[:, z_])
            r = act(xw[:, r_] + hw[:, r_])
            hh = np.tanh(xw[:, h_] + r * hw[:, h_])
        else:
            z = act(xw[:, z_] + h @ recurrent_kernel[:, z_])
            r = act(xw[:, r_] + h @ recurrent_kernel[:, r_])
            hh = np.tanh(xw[:, h_] + (r * h) @ recurrent_kernel[:, h_])
        h = z * h + (1.0 - z) * hh
        out.append(h)
    return np.stack(out, axis=1)


def random_keras_weights(rng, reset_after, scale=0.8):
    kernel = rng.uniform(-scale, scale, (FEATURES, 3 * HIDDEN))
    recurrent_kernel = rng.uniform(-scale, scale, (HIDDEN, 3 * HIDDEN))
    bias = rng.uniform(-scale, scale, (2, 3 * HIDDEN) if reset_after else (3 * HIDDEN,))
    return kernel, recurrent_kernel, bias


@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("activation", GATE_ACTIVATIONS)
def test_matches_numpy_keras_gru(activation, reset_after):
    rng = np.random.default_rng(7)
    weights = random_keras_weights(rng, reset_after)
    # Large inputs so that the hard sigmoids saturate on some steps.
    x = rng.normal(0.0, 2.0, (BATCH, STEPS, FEATURES))
    expected = keras_gru_numpy(x, *weights, activation, reset_after)

    layer = GRULayer(FEATURES, HIDDEN, activation, reset_after).double()
    layer.load_state_dict(keras_to_torch_gru(*weights, reset_after=reset_after))
    got = layer(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_bidirectional_numpy_keras_gru():
    rng = np.random.default_rng(3)
    fwd, bwd = random_keras_weights(rng, False), random_keras_weights(rng, False)
    x = rng.normal(size=(BATCH, STEPS, FEATURES))
    act = "hard_sigmoid_keras2"
    # Keras Bidirectional: the backward layer reads the reversed sequence; its outputs are
    # reversed back before concatenation.
    expected = np.concatenate(
        [
            keras_gru_numpy(x, *fwd, act, False),
            keras_gru_numpy(x[:, ::-1], *bwd, act, False)[:, ::-1],
        ],
        axis=-1,
    )
    layer = GRULayer(FEATURES, HIDDEN, act, reset_after=False, bidirectional=True).double()
    params = keras_to_torch_gru(*fwd, reset_after=False)
    params |= keras_to_torch_gru(*bwd, reset_after=False, suffix="_reverse")
    layer.load_state_dict(params)
    got = layer(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_nn_gru_equals_keras_reset_after_via_conversion():
    torch.manual_seed(5)
    ref = torch.nn.GRU(FEATURES, HIDDEN, batch_first=True).double()
    weights = torch_to_keras_gru(ref.state_dict(), reset_after=True)
    x = np.random.default_rng(5).normal(size=(BATCH, STEPS, FEATURES))
    expected = keras_gru_numpy(x, *weights, "sigmoid", True)
    got = ref(torch.from_numpy(x))[0].detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------- conversion


@pytest.mark.parametrize("reset_after", [False, True])
def test_keras_torch_keras_round_trip(reset_after):
    weights = random_keras_weights(np.random.default_rng(11), reset_after)
    params = keras_to_torch_gru(*weights, reset_after=reset_after)
    assert params["weight_ih_l0"].shape == (3 * HIDDEN, FEATURES)
    assert params["weight_hh_l0"].shape == (3 * HIDDEN, HIDDEN)
    assert params["bias_ih_l0"].shape == params["bias_hh_l0"].shape == (3 * HIDDEN,)
    if not reset_after:
        assert not params["bias_hh_l0"].any()
    back = torch_to_keras_gru(params, reset_after=reset_after)
    for got, want in zip(back, weights):
        assert got.shape == want.shape
        assert np.array_equal(got, want)


def test_gate_blocks_are_swapped_and_transposed():
    u = HIDDEN
    kernel = np.zeros((FEATURES, 3 * u))
    kernel[:, :u], kernel[:, u : 2 * u], kernel[:, 2 * u :] = 1.0, 2.0, 3.0  # z, r, h
    params = keras_to_torch_gru(kernel, np.zeros((u, 3 * u)), None, reset_after=True)
    w = params["weight_ih_l0"]
    assert (w[:u] == 2).all() and (w[u : 2 * u] == 1).all() and (w[2 * u :] == 3).all()
    assert not params["bias_ih_l0"].any() and not params["bias_hh_l0"].any()


def test_torch_keras_torch_round_trip():
    _, layer = make_pair(True)
    state = layer.state_dict()
    for sfx in ("", "_reverse"):
        weights = torch_to_keras_gru(state, reset_after=True, suffix=sfx)
        back = keras_to_torch_gru(*weights, reset_after=True, suffix=sfx)
        for name, value in back.items():
            assert torch.equal(value, state[name])


def test_conversion_rejects_wrong_bias_shape():
    kernel, recurrent_kernel, bias = random_keras_weights(np.random.default_rng(0), True)
    with pytest.raises(ValueError, match="bias"):
        keras_to_torch_gru(kernel, recurrent_kernel, bias, reset_after=False)
    with pytest.raises(ValueError, match="kernel"):
        keras_to_torch_gru(kernel.T, recurrent_kernel, bias, reset_after=True)


# ---------------------------------------------------------------------------- gates

POINTS = [-3.0, -2.5, 0.0, 1.0, 2.5, 3.0]
EXPECTED_GATES = {
    "sigmoid": [0.0474, 0.0759, 0.5, 0.7311, 0.9241, 0.9526],
    "hard_sigmoid_keras2": [0.0, 0.0, 0.5, 0.7, 1.0, 1.0],
    "hard_sigmoid_keras3": [0.0, 0.0833, 0.5, 0.6667, 0.9167, 1.0],
}


@pytest.mark.parametrize("name", GATE_ACTIVATIONS)
def test_gate_values(name):
    got = gate_fn(name)(torch.tensor(POINTS, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, EXPECTED_GATES[name], atol=5e-5)


@pytest.mark.parametrize(
    ("name", "edge"), [("hard_sigmoid_keras2", 2.5), ("hard_sigmoid_keras3", 3)]
)
def test_gate_saturation(name, edge):
    g = gate_fn(name)
    outside = torch.tensor([edge, edge + 0.01, edge + 1.0, 50.0])
    assert torch.equal(g(outside), torch.ones(4))
    assert torch.equal(g(-outside), torch.zeros(4))
    inside = torch.tensor([-edge + 0.05, edge - 0.05])
    assert ((g(inside) > 0) & (g(inside) < 1)).all()


def test_sigmoid_does_not_saturate_at_3():
    y = gate_fn("sigmoid")(torch.tensor([-3.0, 3.0]))
    assert ((y > 0.04) & (y < 0.96)).all()


def test_unknown_gate():
    with pytest.raises(ValueError, match="unknown gate activation"):
        gate_fn("hard_sigmoid")


# ---------------------------------------------------------------------------- init


def test_keras_init():
    n_in, hidden = 40, 16
    torch.manual_seed(0)
    layer = GRULayer(n_in, hidden, bidirectional=True)
    layer.reset_parameters(kernel="keras", recurrent="keras", bias="keras")
    limit = np.sqrt(6.0 / (n_in + 3 * hidden))  # fans of the (in, 3H) Keras kernel
    state = layer.state_dict()
    for sfx in ("", "_reverse"):
        kernel, recurrent_kernel, bias = torch_to_keras_gru(state, reset_after=True, suffix=sfx)
        assert np.abs(kernel).max() <= limit
        assert np.abs(kernel).max() > 0.95 * limit
        np.testing.assert_allclose(kernel.std(), limit / np.sqrt(3), rtol=0.1)
        # Orthonormal rows of the whole (H, 3H) matrix, not of each gate block.
        rr = recurrent_kernel.astype(np.float64)
        np.testing.assert_allclose(rr @ rr.T, np.eye(hidden), atol=1e-5)
        z_block = rr[:, :hidden]
        assert np.abs(z_block @ z_block.T - np.eye(hidden)).max() > 0.1
        assert not bias.any()
    # The two directions are drawn independently.
    assert not torch.equal(state["weight_hh_l0"], state["weight_hh_l0_reverse"])


def test_torch_init_and_mixed_init():
    hidden = 16
    bound = 1 / np.sqrt(hidden)
    torch.manual_seed(0)
    layer = GRULayer(40, hidden, bidirectional=True)
    for name, p in layer.named_parameters():
        assert p.abs().max() <= bound, name
        assert p.abs().max() > 0.8 * bound, name
    layer.reset_parameters(bias="keras")
    for name, p in layer.named_parameters():
        assert (not p.any()) if "bias" in name else p.abs().max() > 0.8 * bound
    layer.reset_parameters(recurrent="keras")
    w_hh = layer.weight_hh_l0.detach().double()
    np.testing.assert_allclose((w_hh.T @ w_hh).numpy(), np.eye(hidden), atol=1e-5)
    assert layer.bias_ih_l0.abs().max() > 0.5 * bound


# ---------------------------------------------------------------------------- loop cost


def graph(out: torch.Tensor) -> list:
    """Every autograd node behind ``out``, once each."""
    nodes, stack, seen = [], [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(fn for fn, _ in node.next_functions)
    return nodes


def time_axis_indexing_nodes(out: torch.Tensor) -> list[str]:
    """Autograd nodes that select or slice a (batch, time, ...) tensor along time.

    One such node per step (``x[:, t]``) makes backward quadratic in the sequence length:
    each one scatters its gradient into a full-size zero tensor.
    """
    return [node.name() for node in graph(out)
            if node.name() in ("SelectBackward0", "SliceBackward0")
            and len(node._saved_self_sym_sizes) == 3 and node._saved_dim in (1, -2)]


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("reset_after", [False, True])
def test_loop_does_not_index_time_steps(reset_after, bidirectional):
    layer = GRULayer(FEATURES, HIDDEN, "hard_sigmoid_keras3", reset_after, bidirectional)
    x = torch.randn(BATCH, STEPS, FEATURES, requires_grad=True)
    assert time_axis_indexing_nodes(layer(x)) == []
    # The check itself sees per-step indexing.
    assert len(time_axis_indexing_nodes(torch.stack([x[:, t] for t in range(STEPS)]))) == STEPS


def saved_elements(fn, x: torch.Tensor) -> int:
    """Elements of every tensor autograd saves for backward while ``fn(x)`` runs."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(x).sum()
    return total


@pytest.mark.parametrize("reset_after", [False, True])
def test_backward_graph_grows_linearly_with_sequence_length(reset_after):
    # Four times the steps must give about four times the nodes and saved elements; a loop
    # that kept or re-read the whole sequence at each step would give about sixteen.
    # Counted, not timed: a wall-clock ratio moves with whatever else shares the CPU.
    # (Per-step indexing, the other way to a quadratic backward, is the test above.)
    torch.manual_seed(0)
    layer = GRULayer(64, 16, "hard_sigmoid_keras2", reset_after=reset_after,
                     bidirectional=True)
    short, long = (torch.randn(4, t, 64, requires_grad=True) for t in (100, 400))
    nodes = [len(graph(layer(x))) for x in (short, long)]
    saved = [saved_elements(layer, x) for x in (short, long)]
    assert 3.5 < nodes[1] / nodes[0] < 4.5, nodes
    assert 3.5 < saved[1] / saved[0] < 4.5, saved

    def keeps_whole_sequence(x):  # the check itself sees a quadratic loop
        out = x[:, :1]
        for t in range(1, x.shape[1]):
            out = torch.cat([out, (out * x[:, t:t + 1]).mean(1, keepdim=True)], 1)
        return out

    few, many = (saved_elements(keeps_whole_sequence, torch.randn(2, t, 3, requires_grad=True))
                 for t in (25, 100))
    assert many / few > 10
