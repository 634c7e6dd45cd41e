"""The crash suite: real worker processes killed mid-step against a served tenant."""
