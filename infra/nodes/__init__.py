"""VPS node providers: each module turns a node of the stack config into a reachable machine."""
