"""Correction requests (GDPR Art. 16): what a subject may propose, checked before anyone sees it."""
