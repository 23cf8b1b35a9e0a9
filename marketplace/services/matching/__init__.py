"""The service side of matching: records for the pure ranker, stored suggestions, ranker versions,
expressions of interest, the review queue, and the primitives every match status change uses."""
