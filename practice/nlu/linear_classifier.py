"""Rasa's logistic regression intent classifier with its regularisation and solver as settings."""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import InvalidConfigException
from sklearn.linear_model import LogisticRegression


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier with `C` and the solver chosen by cross-validation.

    Rasa fixes C at 1.0, which is far too much regularisation for unit-length TF-IDF rows
    (docs/PIPELINES.md); liblinear fits one intent against the rest and trains several
    times faster than lbfgs here. Saving, loading (skops) and prediction are Rasa's own.
    """

    clf: LogisticRegression  # made by Rasa's __init__, rebuilt below with `C`

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Rasa's defaults plus `C` (inverse regularisation strength)."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Rasa's classifier, then the estimator rebuilt with the configured `C`."""
        super().__init__(config, name, model_storage, resource)
        self.validate_config(self.config)
        self.clf = LogisticRegression(**{**self.clf.get_params(), "C": float(self.config["C"])})

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """`C` must be a positive number."""
        try:
            positive = float(config.get("C", 1.0)) > 0
        except (TypeError, ValueError):
            positive = False
        if not positive:
            raise InvalidConfigException("LinearIntentClassifier needs a number C > 0")
