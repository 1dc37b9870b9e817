"""Template persistence, encryption and the search index.

Knows Redis, AES-GCM and numpy; knows nothing of gRPC or HTTP.
"""
from templates_store.bcid import Bcid, PartitionId
from templates_store.crypto import KeyRing, TemplateDecryptionError
from templates_store.index import SearchIndex, Match
from templates_store.store import TemplateStore, TemplateNotFound, TemplateStatus, EnrollResult
from templates_store.templates import CompactTemplate, EnhancedTemplate, Thumbnail

__all__ = [
    "Bcid", "PartitionId", "KeyRing", "TemplateDecryptionError", "SearchIndex", "Match",
    "TemplateStore", "TemplateNotFound", "TemplateStatus", "EnrollResult",
    "CompactTemplate", "EnhancedTemplate", "Thumbnail",
]
