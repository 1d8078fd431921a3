"""NLU graph components of the practice: deterministic guards around the classifier."""

from practice.nlu.safety_guard import SafetyGuard
from practice.nlu.vocabulary_guard import VocabularyGuard

__all__ = ["SafetyGuard", "VocabularyGuard"]
