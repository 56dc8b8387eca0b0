"""The ideas board: fans post ideas against a product, vote and comment; operators move them through a
lifecycle (``service.TRANSITIONS``) and ship them in releases that credit every author and voter; a weekly
digest says what shipped and who asked for it."""
