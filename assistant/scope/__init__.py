"""Does the article cover this question? Decided before anything is answered.

* ``terms``: subjects the article does not cover (data);
* ``kinds``: what a request asks for (a task, another subject, a dose, a brand ...),
  learned from example requests;
* ``judge``: combines them with how close the question is to the article.
"""

from .judge import Scope, ScopeJudge, ScopeReason
from .kinds import KINDS, RequestKind, RequestKinds
from .terms import UNCOVERED_TERMS

__all__ = ["KINDS", "UNCOVERED_TERMS", "RequestKind", "RequestKinds", "Scope", "ScopeJudge", "ScopeReason"]
