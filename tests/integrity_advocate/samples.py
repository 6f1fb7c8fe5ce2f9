# ruff: noqa: E501  (the vendor samples are kept verbatim)
"""The vendor page's sample payloads (shared/vendor-docs/001_c7a32c6f5c9fccef.txt), verbatim."""

from __future__ import annotations

REVIEW_CALLBACK = rb"""{
    "Course_Id": "ZZZZ",
    "Created": "1586808802",
    "Email": "jean.grey@xaviersschoolforthegifted.org",
    "FirstName": "Jean",
    "LastName": "Grey",
    "Modified": "1586813617",
    "Override_Date": "-1",
    "Override_LMSUser_FirstName": null,
    "Override_LMSUser_LastName": null,
    "Override_LMSUser_Id": null,
    "Override_Reason": null,
    "Override_Status": null,
    "Participant_Photo": "",
    "ParticipantIdentifier": "XXXXXXXXXXXXX",
    "ResubmitUrl": "https://www.integrityadvocateserver.com/Participants/ResubmitIDLanding?v=XXXXXXXXXXXXXXXXXXXXXXYYYYYYYYYYYYYYYYYYYYYYYZZZZZZZZZZZZZZZZZZZZZ",
    "Status": "Invalid (ID)",
    "Sessions": [
        {
            "Activity_Id": "AAAAAAAA",
            "Click_IAmHere_Count": 0,
            "End": "1586809246",
            "Exit_Fullscreen_Count": 0,
            "Id": "XXXXXXXXXXXXXXXXXXXX",
            "Participant_Photo": "",
            "Start": "1586808802",
            "Status": "Invalid (ID)",
            "Flags": [
                {
                    "CaptureData": "",
                    "CaptureDate": "1586808852",
                    "Comment": "Name on account is \"Madelyne Pryor\". Name on photo ID is \"Jean Grey\". Please ensure the name on your ID matches the name on your account.",
                    "Created": "1586813603",
                    "Id": "34ee9b1a-5d42-4446-8616-096540e03830",
                    "FlagType_Id": 7,
                    "FlagType_Name": "Name on ID does not match account name"
                }
            ]
        }
    ]
}"""

# The sample's "..." (more rows) is left out; everything else is as printed.
PARTICIPANTS_PAGE = rb"""{
    "IsFirstPage": true,
    "BackwardSearch": false,
    "NextToken": "{\"Modified\":\"1587670298\",\"App_Id\":\"XXXXXXXXXXXXXXX\",\"App_Id+ParticipantIdentifier+Course_Id\":\"XXXXXXXXXXXXXXX+ZZZZZZZ+CCCC\"}",
    "Participants": [
        {
            "Course_Id": "590",
            "Created": "1586963235",
            "Email": "scottsummers@email.com",
            "FirstName": "Scott",
            "LastName": "Summers",
            "Modified": "1587055818",
            "Override_Date": "-1",
            "Override_LMSUser_FirstName": null,
            "Override_LMSUser_LastName": null,
            "Override_Reason": null,
            "Override_Status": null,
            "Participant_Photo": " URI",
            "ParticipantIdentifier": "XXXXXXXXX",
            "ResubmitUrl": "https://www.integrityadvocateserver.com/Participants/ResubmitIDLanding?v=QUERYSTRINGVARIABLE",
            "Status": "Valid",
            "Token": "{\"App_Id\":\"XXXXXXXXXXXXXXX\",\"Modified\":\"1587055818\",\"App_Id+ParticipantIdentifier+Course_Id\":\"XXXXXXXXXXXXXXX+ZZZZZZZ+CCCC\"}",
            "SortValue": "1587055818"
        }
    ]
}"""

SESSIONS_PAGE = rb"""{
    "IsFirstPage": true,
    "BackwardSearch": false,
    "NextToken": "{\"Id\":\"XXXXXXXXXXXXXXXX\",\"SearchFilter_Name\":\"drake+robert+XXXXXXXXXXXXXXXXXX\",\"SearchFilter_App_Id-Course_Id-Activity_Id\":\"XXXXXXXXXXXXXXXXXX+YYYY+ZZZZZZZZZZZ\"}",
    "ParticipantSessions": [
        {
            "Activity_Id": "35555491",
            "Course_Id": "590",
            "Email": "robert.drake@xaviersschoolforthegifted.org",
            "FirstName": "Robert",
            "LastName": "Drake",
            "Start": "1586988635",
            "End": "1586988765",
            "Participant_Photo": "",
            "Status": "Valid",
            "Token": "{\"Id\":\"XXXXXXXXXXXXXXXX\",\"SearchFilter_Name\":\"drake+robert+XXXXXXXXXXXXXXXXXX\",\"SearchFilter_App_Id-Course_Id-Activity_Id\":\"XXXXXXXXXXXXXXXXXX+YYYY+ZZZZZZZZZZZ\"}",
            "SortValue": "drake+robert+XXXXXXXXXXXXXXXXXX"
        }
    ]
}"""
