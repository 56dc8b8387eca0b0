"""The community forum: boards, threads, replies in safe Markdown, likes, mentions, reports, moderation and
trust levels (rules and thresholds in ``service``)."""
