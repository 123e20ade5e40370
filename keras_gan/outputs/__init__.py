"""What a trained GAN is turned into: image grids and figures (`images`), and
the generator as a versioned SavedModel for TF Serving (`saved_model`)."""
