"""tg.gradcheck and tg.gradgradcheck: they pass a correct custom Function and catch a wrong
one, with a message that names the input, the element and both values."""

import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


class Cube(tg.Function):
    """x³, with the derivative 3x² written in Tensor ops (so it can be differentiated again)"""

    formula = "∂/∂x = 3x²"

    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 3 * x**2


class WrongCube(Cube):
    """x³ with the derivative 2x²: off by a third"""

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 2 * x**2


class FirstOrderCube(Cube):
    """x³ with the right first derivative, but computed from detached values: a second
    backward sees a constant and gets the second derivative 0 instead of 6x"""

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 3 * x.detach() ** 2


class ScaledProduct(tg.Function):
    """a · b · 2 with a right gradient for a and a wrong one for b"""

    def forward(self, a, b):
        return a * b * 2

    def backward(self, grad):
        a, b = self.inputs
        return grad * b * 2, grad * a


def leaf(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_custom_function_forward_and_name():
    x = leaf([1.0, -2.0])
    y = Cube.apply(x)
    np.testing.assert_array_equal(y.numpy(), [1.0, -8.0])
    assert y.grad_fn.name == "Cube" and isinstance(y.grad_fn, tg.Function) and y.grad_fn.inputs == (x,)


def test_custom_function_passes_gradcheck_and_gradgradcheck():
    x = leaf(np.random.default_rng(0).standard_normal((2, 3)))
    assert tg.gradcheck(Cube.apply, (x,))
    assert tg.gradgradcheck(Cube.apply, (x,))
    assert tg.gradgradcheck(lambda t: Cube.apply(t).sum(), [x]), "a list of inputs works too"


def test_wrong_backward_fails_with_a_message_naming_input_element_and_values():
    values = np.array([[0.5, -1.5], [2.0, 1.0]])
    with pytest.raises(RuntimeError) as error:
        tg.gradcheck(WrongCube.apply, (leaf(values),))
    message = str(error.value)
    assert "input 0" in message and "element (0, 0)" in message, message
    analytic, numerical = 2 * values[0, 0] ** 2, 3 * values[0, 0] ** 2
    found = re.search(r"analytic (\S+), numerical (\S+)", message)
    assert found, message
    np.testing.assert_allclose(float(found.group(1)), analytic, rtol=1e-6)
    np.testing.assert_allclose(float(found.group(2)), numerical, rtol=1e-6)


def test_message_names_the_second_input_when_its_gradient_is_wrong():
    a, b = leaf([1.0, 2.0]), leaf([3.0, -4.0])
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(2,\)\) at element \(0,\)") as error:
        tg.gradcheck(ScaledProduct.apply, (a, b))
    found = re.search(r"analytic (\S+), numerical (\S+)", str(error.value))
    np.testing.assert_allclose([float(found.group(1)), float(found.group(2))], [1.0, 2.0], rtol=1e-6)


def test_raise_exception_false_returns_false():
    x = leaf([0.5, 1.5])
    assert tg.gradcheck(WrongCube.apply, (x,), raise_exception=False) is False
    assert tg.gradcheck(Cube.apply, (x,), raise_exception=False) is True


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = leaf([0.5, -1.5, 2.0])
    assert tg.gradcheck(FirstOrderCube.apply, (x,)), "the first derivative is right"
    assert tg.gradgradcheck(FirstOrderCube.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="input 0"):
        tg.gradgradcheck(FirstOrderCube.apply, (x,))


def test_inputs_that_do_not_require_grad_are_not_checked():
    """ScaledProduct's gradient for b is wrong, but b is a constant here."""
    a, b = leaf([1.0, 2.0]), Tensor(np.array([3.0, -4.0]))
    assert tg.gradcheck(ScaledProduct.apply, (a, b))


def test_gradcheck_leaves_inputs_and_their_grads_as_they_were():
    values = np.array([0.5, -1.5])
    x = leaf(values)
    x.grad = Tensor(np.array([7.0, 8.0]))
    tg.gradcheck(Cube.apply, (x,))
    tg.gradgradcheck(Cube.apply, (x,))
    np.testing.assert_array_equal(x.numpy(), values)
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 8.0])


def test_gradcheck_of_a_non_contiguous_input():
    """The finite differences must perturb the input itself, also when its array is a
    transposed view (reshape(-1) of such an array is a copy)."""
    x = Tensor(np.random.default_rng(1).standard_normal((3, 2)).T, requires_grad=True)
    assert not x.data.flags.c_contiguous
    assert tg.gradcheck(lambda t: (t * t).sum(axis=0), (x,))


def test_gradcheck_warns_about_float32_inputs():
    x = Tensor([0.5, 1.5], requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        tg.gradcheck(Cube.apply, (x,), eps=1e-2, atol=1e-2, rtol=1e-2)
