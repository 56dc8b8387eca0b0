"""The fan community: the ideas board and releases (``ideas``), the forum (``forum``)."""
