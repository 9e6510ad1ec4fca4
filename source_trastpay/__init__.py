"""Package marker; see the README."""
