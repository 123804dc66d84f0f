"""Reading FITS: opening and checks, the HDU walk, cards, HDU documents, WCS, thumbnails."""
