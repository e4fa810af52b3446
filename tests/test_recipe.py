"""The recipe: presets, serialisation, validation."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from utils.networks.recipe import DEFAULT_FIELDS, KERAS_2017, PYTORCH, Recipe, diff, get_recipe


def test_named_recipes_differ_only_in_framework_defaults():
    assert set(diff(KERAS_2017, PYTORCH)) == set(DEFAULT_FIELDS)


def test_keras_2017_preset_has_the_2017_defaults():
    assert KERAS_2017.gate_activation == "hard_sigmoid_keras2"
    assert KERAS_2017.reset_after is False
    assert (KERAS_2017.kernel_init, KERAS_2017.gru_recurrent_init) == ("keras", "keras")
    assert (PYTORCH.gate_activation, PYTORCH.reset_after) == ("sigmoid", True)
    assert PYTORCH.momentum_formula == "pytorch" and KERAS_2017.momentum_formula == "keras"


@pytest.mark.parametrize("recipe", [KERAS_2017, PYTORCH, replace(PYTORCH, batchnorm="keras",
                                                                 input_scaling="pm128",
                                                                 learning_rate=0.01)])
def test_string_round_trip(recipe):
    s = recipe.to_string()
    assert Recipe.from_string(s) == recipe
    assert get_recipe(s) == recipe
    assert Recipe.from_dict(recipe.to_dict()) == recipe


def test_string_names_the_recipe_exactly_and_ignores_the_label():
    a = replace(KERAS_2017, name="a")
    assert a.to_string() == KERAS_2017.to_string()
    assert replace(KERAS_2017, epochs=11).to_string() != KERAS_2017.to_string()


def test_every_field_is_documented():
    doc = Recipe.__doc__
    for f in fields(Recipe):
        if f.name != "name":
            assert f"``{f.name}``" in doc, f.name


@pytest.mark.parametrize("bad, match", [
    ({"gate_activation": "hard_sigmoid"}, "gate_activation"),
    ({"kernel_init": "he"}, "kernel_init"),
    ({"reset_after": "yes"}, "reset_after"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
])
def test_bad_values_are_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        replace(KERAS_2017, **bad)


def test_unknown_field_and_bad_strings():
    with pytest.raises(ValueError, match="unknown recipe fields"):
        Recipe.from_dict({"gate": "sigmoid"})
    with pytest.raises(ValueError, match="not JSON"):
        Recipe.from_string("{gate")
    with pytest.raises(ValueError, match="unknown recipe 'keras2'"):
        get_recipe("keras2")


def test_ladder_switches_every_default_once_in_order():
    from utils.networks.recipe import LADDER, ladder

    assert sorted(f for _, names in LADDER for f in names) == sorted(DEFAULT_FIELDS)
    rungs = ladder(PYTORCH, KERAS_2017)
    assert rungs[0][1] == PYTORCH and rungs[-1][1] == KERAS_2017
    for (_, a), (label, b), (step, names) in zip(rungs, rungs[1:], LADDER):
        assert label == step and set(diff(a, b)) == set(names)


def test_ladder_refuses_recipes_that_differ_beyond_the_defaults():
    from utils.networks.recipe import ladder

    with pytest.raises(ValueError, match="learning_rate"):
        ladder(PYTORCH, replace(KERAS_2017, learning_rate=0.1))


def test_fields_are_normalised_and_presets_stay_valid():
    r = Recipe.from_string('{"learning_rate": 1, "epochs": 3}')
    assert r.learning_rate == 1.0 and isinstance(r.learning_rate, float)
    assert r.epochs == 3 and type(r.epochs) is int
    assert Recipe.from_string(r.to_string()) == r
    for preset in (KERAS_2017, PYTORCH):
        assert Recipe.from_dict(preset.to_dict()) == preset


@pytest.mark.parametrize("bad, match", [
    ({"learning_rate": True}, r"'learning_rate' = True: expected a number, found bool"),
    ({"lr_decay": -0.5}, r"'lr_decay' = -0.5: expected a factor in \(0, 1\]"),
    ({"epochs": "3"}, r"'epochs' = '3': expected an integer, found str"),
    ({"epochs": 3.0}, r"'epochs' = 3.0: expected an integer, found float"),
    ({"lr_step_epochs": 0}, r"'lr_step_epochs' = 0: expected an integer >= 1"),
    ({"bidirectional": 0}, r"'bidirectional' = 0: expected True or False"),
])
def test_wrong_types_name_the_field_value_and_expectation(bad, match):
    with pytest.raises(ValueError, match=match):
        Recipe.from_dict(bad)
