"""Turn calendar invites (.ics) into KooKoo conference calls scheduled on EasyCron."""

__version__ = "0.1.0"
