"""Function images: the Dockerfile rendered from a function, its build context, the local engine builder, results."""
