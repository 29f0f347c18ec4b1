"""What a teammate runs: the built-in worker, agent adapters and message delivery."""
