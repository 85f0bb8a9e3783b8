"""A trivial handler: the runtime maps its return value to the run's results."""


def add(a: int, b: int) -> int:
    print(f"adding {a} and {b}")
    return a + b
