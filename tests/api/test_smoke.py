from tests.fixtures.harness import API


async def test_credits_shape(harness):
    partner = await harness.partner(credits=950)
    response = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["credits_remaining"] == 950
