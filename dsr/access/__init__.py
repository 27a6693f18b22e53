"""Access requests (GDPR Art. 15): what the subject is told, and the work that follows the
access workflow's transitions (workflows/access.py names them)."""
