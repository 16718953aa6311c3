import phonenumbers
from phonenumbers import PhoneMetadata

from customers.evidence import MIN_PHONE_DIGITS, Found, Kind, extract


def test_no_valid_phone_number_has_fewer_digits_than_the_matcher_is_spared_for():
    shortest = min(
        length
        for region in phonenumbers.SUPPORTED_REGIONS
        for length in PhoneMetadata.metadata_for_region(region).general_desc.possible_length
        if length > 0
    )
    assert shortest >= MIN_PHONE_DIGITS


def test_a_phone_number_of_the_fewest_digits_is_still_found():
    found = extract(text="Call me on 4002 please", phone_region="NU")

    assert Found(Kind.PHONE, "+6834002") in found


def test_text_with_too_few_digits_for_a_number_has_no_phone():
    found = extract(text="My order 42 from 3 weeks ago", phone_region="GB")

    assert not [f for f in found if f.kind == Kind.PHONE]
