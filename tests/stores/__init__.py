"""Tests of flowengine.stores."""
