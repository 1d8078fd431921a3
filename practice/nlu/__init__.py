"""NLU graph components of the practice: features, classifier and the guards around it."""

from practice.nlu.domain_gate import DomainGate
from practice.nlu.linear_classifier import LinearIntentClassifier
from practice.nlu.safety_guard import SafetyGuard
from practice.nlu.tfidf_featurizer import TfidfFeaturizer
from practice.nlu.vocabulary_guard import VocabularyGuard

__all__ = ["DomainGate", "LinearIntentClassifier", "SafetyGuard", "TfidfFeaturizer", "VocabularyGuard"]
