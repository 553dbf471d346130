"""Building blocks every stage shares: a bounded memo (memo), arrays saved as .npy and loaded
memory-mapped (arrays), strings numbered alike across processes (codes), a vocabulary held in
arrays (vocabulary) and forked children (forks)."""
