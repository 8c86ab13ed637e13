"""creditwise publish: releases with a manifest, atomic switch of current, pruning and rollback, local and ssh targets."""
