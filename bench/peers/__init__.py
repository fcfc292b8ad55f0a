"""The peers livebracket is measured against: a bare Tornado fan-out and Django Channels."""
