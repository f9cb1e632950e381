"""What the hotline says: the profile model, the catalogs, prompt texts and audio, speech.

Layer: the bottom. It imports neither storage nor anything built on Flask views.
"""
