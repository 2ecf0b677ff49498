"""tg.detect_anomaly(): the first op that makes a NaN or an inf is named, with its formula
and input shapes, and marked on the graph; outside the block nothing is checked."""

import threading
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_a_forward_that_makes_inf_is_named_with_its_formula_and_shapes():
    x = Tensor([1.0, 0.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(RuntimeError) as error:
        x.log()
    message = str(error.value)
    assert "Log's forward made inf" in message and "1/x" in message and "(2,)" in message
    assert error.value.output.grad_fn.anomaly == "forward made inf", "the op is marked for the picture"


def test_a_backward_that_makes_inf_names_the_node_not_the_ops_of_its_formula():
    x = Tensor([1.0, 0.0], requires_grad=True)
    with tg.detect_anomaly():
        root = x.sqrt()  # √0 = 0 is fine; its derivative 1/(2√0) is not
        with pytest.raises(RuntimeError, match="Sqrt's backward made inf in the gradient of input 0"):
            (root * 2).sum().backward()
    assert root.grad_fn.anomaly == "backward made inf"


def test_a_nan_is_told_from_an_inf():
    x = Tensor([-1.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match="made NaN"):
        x.sqrt()


def test_without_detect_anomaly_nothing_is_checked():
    x = Tensor([1.0, 0.0], requires_grad=True)
    y = x.log()
    assert np.isinf(y.numpy()).any() and not hasattr(y.grad_fn, "anomaly")


def test_finite_work_runs_as_usual_and_the_mode_is_per_thread():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    with tg.detect_anomaly():
        (x * x).sum().backward()
        thread = threading.Thread(target=lambda: seen.append(Tensor([0.0]).log().numpy()[0]))
        thread.start()
        thread.join()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert seen == [-np.inf], "another thread is not checked"


def test_an_op_with_a_python_number_is_named_with_the_shapes_of_its_tensors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match=r"Div's forward made inf.*input shapes: \(2,\), \(\)"):
        x / 0.0


def test_detect_anomaly_false_turns_the_checks_off_inside_a_checked_block():
    x = tg.Tensor([0.0], requires_grad=True)
    with tg.detect_anomaly():
        with tg.detect_anomaly(False), np.errstate(divide="ignore"):
            y = x.log()  # -inf, unchecked
        assert np.isneginf(y.numpy()).all()
        with pytest.raises(RuntimeError, match="Log's forward made inf"), np.errstate(divide="ignore"):
            x.log()  # checked again after the inner block
