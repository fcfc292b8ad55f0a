"""Domain rules of livebracket: records, roles, the match state machine and the services."""
