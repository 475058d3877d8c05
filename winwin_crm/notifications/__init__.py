"""In-app notifications with per-kind email preferences (at once, daily digest or off).

Every part of the product that tells a person something calls `notify()`; the inbox, the
bell's count and the emails all read the rows it writes.
"""
