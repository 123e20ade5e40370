"""What every layer uses, with no TensorFlow at import: the package's choices
and constants and its user-error type (`options`), the names inside a run
directory (`layout`), atomic file writes (`files`), a quiet TensorFlow start
(`quiet`), and facts about this machine (`machine`, `installed`)."""
