"""NLU graph components of the practice: features, classifier and the guards around it."""

from practice.nlu.domain_gate import DomainGate
from practice.nlu.foreign_questions import ForeignQuestionClassifier
from practice.nlu.language_detector import LanguageDetector
from practice.nlu.linear_classifier import LinearIntentClassifier
from practice.nlu.part_questions import PartQuestionClassifier
from practice.nlu.question_parts import QuestionMerger, QuestionSplitter
from practice.nlu.safety_guard import SafetyGuard
from practice.nlu.safety_model import SafetyClassifier
from practice.nlu.tfidf_featurizer import TfidfFeaturizer
from practice.nlu.visitor_context import VisitorContext
from practice.nlu.vocabulary_guard import VocabularyGuard

__all__ = [
    "DomainGate",
    "ForeignQuestionClassifier",
    "LanguageDetector",
    "LinearIntentClassifier",
    "PartQuestionClassifier",
    "QuestionMerger",
    "QuestionSplitter",
    "SafetyClassifier",
    "SafetyGuard",
    "TfidfFeaturizer",
    "VisitorContext",
    "VocabularyGuard",
]
