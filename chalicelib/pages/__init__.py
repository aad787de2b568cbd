"""Donation pages: what organizers publish and what donors see."""
