"""staging -> core: counting rules, reference data, employers and industries, history, facts.

Submodules (import them directly):

``rules``       the one versioned counting-rule table (``ref.counting_rule``)
``reference``   loads every ``ref`` table (and ``core.industry``) from files shipped in ``data/``
``employers``   pure: employer-string normalization, generic buckets, aliases (distinct strings)
``industries``  pure: canonical employer (+ occupation) -> NAICS 2022 with method and confidence
"""
