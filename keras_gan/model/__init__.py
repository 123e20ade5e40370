"""The GAN itself: Algorithm 1 as a `keras.Model` (`gan`), the two model
families of the layer tables (`networks`), the losses as pure functions
(`losses`), DiffAugment (`augment`), and the one backend-specific piece, how a
player's update gets its gradients (`backends`)."""
