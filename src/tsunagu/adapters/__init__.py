"""Adapters: the small pieces of cross-domain logic that join two domains (SPEC §2.2 rule 2).

Domains never import each other. Where the RAN's carriers become optical fronthaul demand, or
compute sites become data-centre-interconnect lightpaths, the joining code lives here, reads
the twin and the scenario, and calls each domain's model functions.
"""
