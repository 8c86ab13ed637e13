"""`creditwise digest`: what changed since the last published release, for e-mail, chat and scripts."""
