"""Order-book features (OBF): snapshots, providers, feature kernels and the feature engine."""
